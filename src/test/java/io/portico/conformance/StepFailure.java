package io.portico.conformance;

/** A step whose expectation was not met: the message says what was expected and what was seen. */
final class StepFailure extends AssertionError {

  StepFailure(String message) {
    super(message);
  }
}
