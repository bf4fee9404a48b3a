package io.portico.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ResourceSnapshot;
import io.portico.resource.YamlResourceReader;
import io.portico.translate.Translator;
import io.portico.translate.TranslatorOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the log says about a configuration's problems (ConfigVerticle logs each line once). */
class StatusLogTest {

  @Test
  void policiesPorticoDoesNotImplementAreLoggedOncePerPolicy() throws IOException {
    Path file = Path.of("src/test/resources/translate/unimplemented-policies.in.yaml");
    YamlResourceReader.ReadResult read =
        new YamlResourceReader().read(file.toString(), Files.readString(file));
    List<HasMetadata> objects = new ArrayList<>();
    read.objects().forEach(o -> objects.add(o.object()));
    List<String> lines = StatusLog.problems(new Translator(TranslatorOptions.DEFAULTS)
        .translate(ResourceSnapshot.of(objects)).status());

    assertThat(lines).filteredOn(l -> l.startsWith("SecurityPolicy/default/basic-auth: "))
        .singleElement().asString()
        .contains("Accepted=False Invalid: Portico does not implement SecurityPolicy yet");
    assertThat(lines).filteredOn(l -> l.startsWith("SecurityPolicy/default/nowhere: "))
        .singleElement().asString().contains("TargetNotFound");
    assertThat(lines).filteredOn(l -> l.startsWith("ClientTrafficPolicy/default/timeouts: "))
        .singleElement().asString().contains("Portico does not implement ClientTrafficPolicy yet");
  }
}
