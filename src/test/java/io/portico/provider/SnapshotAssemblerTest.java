package io.portico.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.portico.resource.YamlResourceReader;
import io.portico.resource.YamlResourceReader.ReadResult;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Assembling only the files that changed must give what assembling every file gives: the same
 * objects, in the same order, with the same metadata, and the same problems.
 */
class SnapshotAssemblerTest {

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  private final YamlResourceReader reader = new YamlResourceReader(SERIALIZATION);

  @Test
  void assemblingChangedFilesGivesWhatAssemblingEveryFileGives() {
    SnapshotAssembler changedOnly = new SnapshotAssembler(new MetadataStamper(SERIALIZATION, CLOCK));
    SnapshotAssembler everyFile =
        new SnapshotAssembler(new MetadataStamper(SERIALIZATION, CLOCK), false);
    Map<Path, ReadResult> files = new TreeMap<>();
    Random random = new Random(5);
    int steps = 400;
    for (int step = 0; step < steps; step++) {
      Path path = Path.of("/config", "f" + random.nextInt(12) + ".yaml");
      int kind = random.nextInt(100);
      String change;
      if (kind == 0) {
        files.remove(path);
        change = "removed " + path;
      } else if (kind == 1) {
        files.put(path, reader.read(path.toString(), "kind: Service\nmetadata: [\n"));
        change = "broke " + path;
      } else if (kind == 2) {
        files.put(path, reader.read(path.toString(), service("Not_A_Name", step)));
        change = "rejected object in " + path;
      } else {
        // One or two Services out of a small set: some are defined by two files at once.
        StringBuilder yaml = new StringBuilder(service("s" + random.nextInt(300), step));
        if (random.nextInt(4) == 0) {
          yaml.append("---\n").append(service("s" + random.nextInt(300), random.nextInt(2)));
        }
        files.put(path, reader.read(path.toString(), yaml.toString()));
        change = "wrote " + path;
      }
      List<DirectoryScan.FileRead> reads = new ArrayList<>();
      files.forEach((file, result) -> reads.add(new DirectoryScan.FileRead(file, result)));
      DirectoryScan.Scan scan = new DirectoryScan.Scan(List.copyOf(reads), List.of(), List.of(),
          false);
      SnapshotAssembler.Assembly expected = everyFile.assemble(scan);
      SnapshotAssembler.Assembly actual = changedOnly.assemble(scan);
      String where = "step " + step + " (" + change + ")";
      assertThat(actual.problems()).as(where).isEqualTo(expected.problems());
      assertThat(describe(actual.objects())).as(where).isEqualTo(describe(expected.objects()));
    }
    assertThat(changedOnly.wholeAssemblies()).as("most assemblies looked at one file")
        .isLessThan(steps / 2);
    assertThat(everyFile.wholeAssemblies()).isEqualTo(steps);
  }

  @Test
  void anObjectThatComesBackIsNewAgain() {
    SnapshotAssembler assembler = new SnapshotAssembler(new MetadataStamper(SERIALIZATION, CLOCK));
    Path a = Path.of("/config/a.yaml");
    Path b = Path.of("/config/b.yaml");
    Path c = Path.of("/config/c.yaml");
    ReadResult other = reader.read(c.toString(), service("other", 0));
    assembler.assemble(scan(Map.of(a, reader.read(a.toString(), service("s", 1)), c, other)));
    SnapshotAssembler.Assembly edited = assembler.assemble(scan(Map.of(
        a, reader.read(a.toString(), service("s", 2)), c, other)));
    assertThat(describe(edited.objects()).get(0)).contains("generation 2");
    assembler.assemble(scan(Map.of(c, other)));
    SnapshotAssembler.Assembly back = assembler.assemble(scan(Map.of(
        b, reader.read(b.toString(), service("s", 3)), c, other)));
    assertThat(describe(back.objects()).get(0)).contains("generation 1");
    assertThat(assembler.wholeAssemblies()).isEqualTo(1);
  }

  private static DirectoryScan.Scan scan(Map<Path, ReadResult> files) {
    List<DirectoryScan.FileRead> reads = new ArrayList<>();
    new TreeMap<>(files).forEach((file, result) -> reads.add(new DirectoryScan.FileRead(file,
        result)));
    return new DirectoryScan.Scan(List.copyOf(reads), List.of(), List.of(), false);
  }

  private static String service(String name, int label) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: default, labels: {v: "%d"}}
        spec: {ports: [{port: %d}]}
        """.formatted(name, label, 1000 + label);
  }

  /** Each object as its key, labels and the metadata the stamper sets (but the random uid). */
  private static List<String> describe(List<HasMetadata> objects) {
    List<String> described = new ArrayList<>();
    for (HasMetadata object : objects) {
      var meta = object.getMetadata();
      described.add(object.getKind() + "/" + meta.getNamespace() + "/" + meta.getName() + " "
          + meta.getLabels() + " generation " + meta.getGeneration() + " created "
          + meta.getCreationTimestamp() + " version " + meta.getResourceVersion());
    }
    return described;
  }
}
