package io.portico.resource;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.snakeyaml.engine.v2.api.LoadSettings;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLAnchorReplayingFactory;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads one file of Kubernetes objects, as a user would {@code kubectl apply} it, into fabric8
 * model objects, turning everything wrong with it into {@link ConfigProblem}s.
 *
 * <p>The file holds YAML documents separated by {@code ---}, or JSON objects; a document may be
 * a {@code kind: List} with {@code items}. Each object becomes
 * the class Portico reads its kind as (Gateway API kinds always the v1 class, whatever version
 * was written; Envoy Gateway kinds a {@code GenericKubernetesResource}); other kinds are skipped
 * with a warning. An object that breaks the API server's rules is rejected and the rest of the
 * file kept; a syntax error makes the whole file fail, because what follows it cannot be trusted.
 * Thread-safe.
 */
public final class YamlResourceReader {

  /**
   * Places an object read from a file.
   *
   * @param object the object
   * @param file the file it was read from
   * @param line the 1-based line where the object starts
   */
  public record LocatedObject(HasMetadata object, String file, int line) {
    public LocatedObject {
      Objects.requireNonNull(object, "object");
      Objects.requireNonNull(file, "file");
    }

    /** Returns the object's kind, namespace and name. */
    public ObjectKey key() {
      return ObjectKey.of(object);
    }
  }

  /**
   * Names an object that was in the file but was rejected, so that a caller can keep serving an
   * earlier version of it.
   *
   * @param key its kind, namespace and name
   * @param file the file it was read from
   * @param line the 1-based line where the object starts
   */
  public record RejectedObject(ObjectKey key, String file, int line) {
    public RejectedObject {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(file, "file");
    }
  }

  /**
   * Holds what was read from one file.
   *
   * @param objects the valid objects, in file order; empty when the file did not parse
   * @param problems errors and warnings, in file order
   * @param parsed false when the file as a whole failed (a syntax error): then nothing of it
   *     should be believed, and {@code objects} is empty
   * @param rejected the objects that were rejected for breaking a rule, where they could be named
   */
  public record ReadResult(
      List<LocatedObject> objects,
      List<ConfigProblem> problems,
      boolean parsed,
      List<RejectedObject> rejected) {

    public ReadResult {
      objects = List.copyOf(objects);
      problems = List.copyOf(problems);
      rejected = List.copyOf(rejected);
    }

    /** Returns the result for a file that could not be read or parsed at all. */
    public static ReadResult failed(ConfigProblem problem) {
      Objects.requireNonNull(problem, "problem");
      return new ReadResult(List.of(), List.of(problem), false, List.of());
    }
  }

  // One set of snakeyaml settings for every parser: left unset, each parser builds its own
  // (a new JSON schema with its resolver's patterns), a tenth of reading a one-route file
  // (a start at 10k routes, async-profiler). The settings are immutable once built.
  private static final YAMLMapper YAML = YAMLMapper.builder(YAMLAnchorReplayingFactory.builder()
          .loadSettings(LoadSettings.builder().build())
          .build())
      .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .build();
  private static final JsonMapper JSON = JsonMapper.builder()
      .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .build();

  private final KubernetesSerialization serialization;

  /** Creates a reader with its own fabric8 serialization. */
  public YamlResourceReader() {
    this(new KubernetesSerialization());
  }

  /** Creates a reader that converts objects with {@code serialization}. */
  public YamlResourceReader(KubernetesSerialization serialization) {
    this.serialization = Objects.requireNonNull(serialization, "serialization");
  }

  /**
   * Reads the objects in {@code content}; never throws for bad content.
   *
   * @param fileName the name to put in problems and locations
   * @param content the file's text
   */
  public ReadResult read(String fileName, String content) {
    Objects.requireNonNull(fileName, "fileName");
    Objects.requireNonNull(content, "content");
    FileRead file = new FileRead(fileName);
    String text = content.startsWith("\uFEFF") ? content.substring(1) : content;
    // Like kubectl, sniff rather than trust the name: JSON is read as JSON (which allows tabs
    // that YAML would reject), anything else as YAML.
    ObjectMapper mapper = text.stripLeading().startsWith("{") ? JSON : YAML;
    try (JsonParser parser = mapper.createParser(text)) {
      JsonToken token;
      while ((token = parser.nextToken()) != null) {
        int line = lineOf(parser.currentTokenLocation(), 1);
        if (token == JsonToken.START_OBJECT) {
          file.document(readDocument(mapper, parser), line);
        } else {
          JsonNode node = mapper.readTree(parser);
          if (node != null && !node.isNull() && !node.isMissingNode()) {
            file.error(line, "a document must be a Kubernetes object (a mapping), not "
                + node.getNodeType().name().toLowerCase(Locale.ROOT));
          }
        }
      }
    } catch (JacksonException e) {
      return ReadResult.failed(ConfigProblem.error(fileName,
          lineOf(e.getLocation(), file.lastLine), "syntax error: " + parseMessage(e)));
    } catch (RuntimeException e) {
      return ReadResult.failed(ConfigProblem.error(fileName, file.lastLine,
          "cannot read: " + e));
    }
    return new ReadResult(file.objects, file.problems, true, file.rejected);
  }

  /** Reads a document that is a mapping, noting where each element of a top-level items is. */
  private static Document readDocument(ObjectMapper mapper, JsonParser parser) {
    ObjectNode root = mapper.createObjectNode();
    List<Integer> itemLines = new ArrayList<>();
    while (parser.nextToken() == JsonToken.PROPERTY_NAME) {
      String name = parser.currentName();
      if (root.has(name)) {
        throw new StreamReadException(parser, "duplicate key \"" + name + "\"");
      }
      JsonToken value = parser.nextToken();
      if ("items".equals(name) && value == JsonToken.START_ARRAY) {
        ArrayNode items = root.putArray(name);
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          itemLines.add(lineOf(parser.currentTokenLocation(), 0));
          items.add(mapper.<JsonNode>readTree(parser));
        }
      } else {
        root.set(name, mapper.<JsonNode>readTree(parser));
      }
    }
    return new Document(root, itemLines);
  }

  private record Document(ObjectNode tree, List<Integer> itemLines) {}

  private static int lineOf(TokenStreamLocation location, int fallback) {
    return location != null && location.getLineNr() > 0 ? location.getLineNr() : fallback;
  }

  /** Keeps the parser's sentences and drops the multi-line snippets that point at the column. */
  private static String parseMessage(JacksonException e) {
    String message = Objects.requireNonNullElse(e.getOriginalMessage(), e.toString());
    List<String> sentences = new ArrayList<>();
    for (String line : message.split("\\R")) {
      if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
        sentences.add(line.strip());
      }
    }
    return sentences.isEmpty() ? message.strip() : String.join("; ", sentences);
  }

  /**
   * Returns what the YAML reader would reject in an object that did not come from a file (an
   * object listed from the API server): its name, its namespace and the content rules of
   * {@link ObjectValidation}. Empty when the object is served.
   */
  public static List<String> objectProblems(HasMetadata object) {
    List<String> problems = new ArrayList<>();
    String name = object.getMetadata() == null ? null : object.getMetadata().getName();
    if (name == null || name.isEmpty()) {
      problems.add("metadata.name is required");
      return problems;
    }
    String nameProblem = ObjectValidation.nameProblem(name);
    if (nameProblem != null) {
      problems.add(nameProblem);
    }
    String namespace = object.getMetadata().getNamespace();
    if (namespace != null && !namespace.isEmpty()) {
      String namespaceProblem = ObjectValidation.namespaceProblem(namespace);
      if (namespaceProblem != null) {
        problems.add(namespaceProblem);
      }
    }
    problems.addAll(ObjectValidation.problems(object));
    return problems;
  }

  /** Collects the results of one read. */
  private final class FileRead {
    private final String file;
    private final List<LocatedObject> objects = new ArrayList<>();
    private final List<ConfigProblem> problems = new ArrayList<>();
    private final List<RejectedObject> rejected = new ArrayList<>();
    private int lastLine = 1;

    FileRead(String file) {
      this.file = file;
    }

    void document(Document document, int line) {
      lastLine = line;
      object(document.tree(), line, document.itemLines());
    }

    void object(ObjectNode tree, int line, List<Integer> itemLines) {
      String apiVersion = string(tree.get("apiVersion"));
      String kind = string(tree.get("kind"));
      JsonNode metadata = tree.get("metadata");
      String name = metadata == null ? null : string(metadata.get("name"));
      String what = (kind == null ? "object" : kind) + (name == null ? "" : " \"" + name + "\"");
      if (apiVersion == null) {
        error(line, what + ": apiVersion is required");
        return;
      }
      if (kind == null) {
        error(line, what + ": kind is required");
        return;
      }
      if (kind.endsWith("List") && tree.get("items") instanceof ArrayNode items) {
        list(items, line, itemLines);
        return;
      }
      Optional<ResourceKinds.Kind> known = ResourceKinds.resolve(apiVersion, kind);
      if (known.isEmpty()) {
        problems.add(ConfigProblem.warning(file, line,
            "ignored: kind " + kind + " (apiVersion " + apiVersion + ") is not read by Portico"));
        return;
      }
      if (metadata != null && !metadata.isNull() && !(metadata instanceof ObjectNode)) {
        error(line, what + ": metadata must be a mapping");
        return;
      }
      if (name == null) {
        error(line, kind + ": metadata.name is required");
        return;
      }
      typed((ObjectNode) metadata, tree, known.get(), line);
    }

    private void list(ArrayNode items, int line, List<Integer> itemLines) {
      for (int i = 0; i < items.size(); i++) {
        int itemLine = itemLines != null && i < itemLines.size() && itemLines.get(i) > 0
            ? itemLines.get(i)
            : line;
        if (items.get(i) instanceof ObjectNode item) {
          // Lines are known for the top-level list only; a nested list's items get its line.
          object(item, itemLine, null);
        } else {
          error(itemLine, "items[" + i + "] must be a Kubernetes object (a mapping)");
        }
      }
    }

    private void typed(ObjectNode metadata, ObjectNode tree, ResourceKinds.Kind kind, int line) {
      String kindName = tree.get("kind").stringValue();
      String name = metadata.get("name").stringValue();
      JsonNode namespaceNode = metadata.get("namespace");
      if (namespaceNode != null && !namespaceNode.isNull() && !namespaceNode.isString()) {
        error(line, kindName + " \"" + name + "\": metadata.namespace must be a string");
        return;
      }
      String namespace = string(namespaceNode);
      if (kind.clusterScoped()) {
        metadata.remove("namespace");
        namespace = "";
      } else if (namespace == null) {
        namespace = "default";
        metadata.put("namespace", namespace);
      }
      ObjectKey key = new ObjectKey(kindName, namespace, name);
      String problem = ObjectValidation.nameProblem(name);
      if (problem == null && !namespace.isEmpty()) {
        problem = ObjectValidation.namespaceProblem(namespace);
      }
      if (problem != null) {
        reject(key, line, problem);
        return;
      }
      if (kind.apiVersion() != null) {
        tree.put("apiVersion", kind.apiVersion());
      }
      HasMetadata object;
      try {
        object = serialization.convertValue(tree, kind.type());
      } catch (RuntimeException e) {
        reject(key, line, conversionMessage(e));
        return;
      }
      List<String> problems = ObjectValidation.problems(object);
      if (!problems.isEmpty()) {
        reject(key, line, String.join("; ", problems));
        return;
      }
      objects.add(new LocatedObject(object, file, line));
    }

    private void reject(ObjectKey key, int line, String why) {
      error(line, key + ": " + why);
      rejected.add(new RejectedObject(key, file, line));
    }

    void error(int line, String message) {
      problems.add(ConfigProblem.error(file, line, message));
    }
  }

  private static String string(JsonNode node) {
    return node != null && node.isString() && !node.stringValue().isEmpty()
        ? node.stringValue()
        : null;
  }

  /** Names the field whose value has the wrong type, e.g. {@code spec.listeners[0].port}. */
  private static String conversionMessage(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof JacksonException je) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference ref : je.getPath()) {
          if (ref.getPropertyName() != null) {
            path.append(path.length() == 0 ? "" : ".").append(ref.getPropertyName());
          } else if (ref.getIndex() >= 0) {
            path.append('[').append(ref.getIndex()).append(']');
          }
        }
        String message = Objects.requireNonNullElse(je.getOriginalMessage(), je.toString());
        return (path.length() == 0 ? "" : path + ": ") + "wrong type: " + message;
      }
    }
    return "cannot convert: " + e.getMessage();
  }
}
