package io.portico.testing;

import io.grpc.MethodDescriptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The client side of the conformance gRPC echo service ({@link io.portico.echo.GrpcEchoServer}):
 * method descriptors over raw bytes (no protobuf code generation offline) and a reader of its
 * {@code EchoResponse}.
 */
public final class GrpcEcho {

  /** The echo service's fully-qualified name. */
  public static final String SERVICE = io.portico.echo.GrpcEchoServer.SERVICE;

  /** Passes messages through as their bytes. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private GrpcEcho() {
  }

  /** The unary method {@code name} of the echo service (Echo, EchoTwo, EchoThree). */
  public static MethodDescriptor<byte[], byte[]> method(String name) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  /**
   * What the echo reported about a call.
   *
   * @param headers every metadata entry it received, as "key: value"
   */
  public record Answer(String fullyQualifiedMethod, List<String> headers, String authority,
      String namespace, String pod, String tlsServerName) {

    /** Reads an {@code EchoResponse}. */
    public static Answer parse(byte[] message) {
      byte[] assertions = Proto.field(message, 1);
      if (assertions == null) {
        return new Answer("", List.of(), "", "", "", "");
      }
      List<String> headers = new ArrayList<>();
      for (byte[] header : Proto.fields(assertions, 2)) {
        headers.add(Proto.string(header, 1) + ": " + Proto.string(header, 2));
      }
      byte[] context = Proto.field(assertions, 4);
      byte[] tls = Proto.field(assertions, 5);
      return new Answer(Proto.string(assertions, 1), List.copyOf(headers),
          Proto.string(assertions, 3), context == null ? "" : Proto.string(context, 1),
          context == null ? "" : Proto.string(context, 4),
          tls == null ? "" : Proto.string(tls, 3));
    }

    /** Returns the values of the metadata entries named {@code key} (lower case). */
    public List<String> header(String key) {
      List<String> values = new ArrayList<>();
      for (String header : headers) {
        if (header.startsWith(key + ": ")) {
          values.add(header.substring(key.length() + 2));
        }
      }
      return values;
    }
  }

  /** Just enough protobuf wire format to read length-delimited fields. */
  static final class Proto {

    private Proto() {
    }

    static String string(byte[] message, int number) {
      byte[] value = field(message, number);
      return value == null ? "" : new String(value, StandardCharsets.UTF_8);
    }

    static byte[] field(byte[] message, int number) {
      List<byte[]> all = fields(message, number);
      return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    static List<byte[]> fields(byte[] message, int number) {
      List<byte[]> found = new ArrayList<>();
      int[] at = {0};
      while (at[0] < message.length) {
        long key = varint(message, at);
        int wireType = (int) (key & 7);
        switch (wireType) {
          case 0 -> varint(message, at);
          case 1 -> at[0] += 8;
          case 5 -> at[0] += 4;
          case 2 -> {
            int length = (int) varint(message, at);
            if (key >>> 3 == number) {
              byte[] value = new byte[length];
              System.arraycopy(message, at[0], value, 0, length);
              found.add(value);
            }
            at[0] += length;
          }
          default -> throw new IllegalArgumentException("wire type " + wireType);
        }
      }
      return found;
    }

    private static long varint(byte[] message, int[] at) {
      long value = 0;
      for (int shift = 0; ; shift += 7) {
        byte b = message[at[0]++];
        value |= (long) (b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
          return value;
        }
      }
    }
  }
}
