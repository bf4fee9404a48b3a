package io.portico.provider;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.portico.resource.ConfigProblem;
import io.portico.resource.ObjectKey;
import io.portico.resource.YamlResourceReader.LocatedObject;
import io.portico.resource.YamlResourceReader.ReadResult;
import io.portico.resource.YamlResourceReader.RejectedObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Decides which objects to serve from one scan of the directory, keeping the last good version
 * of whatever is broken, and stamps them with Kubernetes-like metadata.
 *
 * <p>A file that fails to parse keeps serving what it produced at its last good read; a rejected
 * object keeps its last good version; of two objects with the same kind, namespace and name the
 * first in path order, then file order, wins. Not thread-safe.
 */
final class SnapshotAssembler {

  /**
   * The result of one scan.
   *
   * @param objects the objects to serve, stamped, in path and file order
   * @param problems everything wrong, in path and file order
   */
  record Assembly(List<HasMetadata> objects, List<ConfigProblem> problems) {}

  private final MetadataStamper stamper;
  private Map<Path, List<LocatedObject>> lastGoodFiles = Map.of();
  private Map<ObjectKey, LocatedObject> lastGoodObjects = Map.of();

  SnapshotAssembler(MetadataStamper stamper) {
    this.stamper = stamper;
  }

  Assembly assemble(DirectoryScan.Scan scan) {
    List<ConfigProblem> problems = new ArrayList<>(scan.problems());
    // In path order: the scan's files are, and a file kept from a directory that could not be
    // listed (rare) re-sorts the map below. A TreeMap of every file at each reload was a fifth
    // of a reload's cost at 10k files.
    Map<Path, List<LocatedObject>> files = new LinkedHashMap<>();
    List<Rejection> rejected = new ArrayList<>();
    for (DirectoryScan.FileRead read : scan.files()) {
      ReadResult result = read.result();
      problems.addAll(result.problems());
      if (result.parsed()) {
        files.put(read.path(), result.objects()); // copied only if an object is added below
        result.rejected().forEach(r -> rejected.add(new Rejection(read.path(), r)));
      } else {
        keepLastGood(read.path(), files, problems);
      }
    }
    if (!scan.failedDirectories().isEmpty()) {
      for (Path path : lastGoodFiles.keySet()) {
        if (!files.containsKey(path)
            && scan.failedDirectories().stream().anyMatch(path::startsWith)) {
          keepLastGood(path, files, problems);
        }
      }
      files = new TreeMap<>(files);
    }
    if (!rejected.isEmpty()) {
      keepLastGoodObjects(rejected, files, problems);
    }

    Map<ObjectKey, LocatedObject> accepted = new LinkedHashMap<>();
    for (List<LocatedObject> objects : files.values()) {
      for (LocatedObject object : objects) {
        LocatedObject first = accepted.putIfAbsent(object.key(), object);
        if (first != null) {
          problems.add(ConfigProblem.error(object.file(), object.line(), object.key()
              + " is already defined at " + first.file() + ":" + first.line()
              + "; this definition is ignored"));
        }
      }
    }
    lastGoodFiles = files;
    lastGoodObjects = accepted;
    Map<ObjectKey, HasMetadata> objects = new LinkedHashMap<>();
    accepted.forEach((key, located) -> objects.put(key, located.object()));
    return new Assembly(stamper.stamp(objects), problems);
  }

  private record Rejection(Path path, RejectedObject object) {}

  private void keepLastGood(Path path, Map<Path, List<LocatedObject>> files,
      List<ConfigProblem> problems) {
    List<LocatedObject> lastGood = lastGoodFiles.get(path);
    if (lastGood != null) {
      files.put(path, lastGood);
      problems.add(ConfigProblem.warning(path.toString(), 0,
          "the last good version of " + path + " is still served"));
    }
  }

  /** Serves the last good version of each rejected object that nothing else defines now. */
  private void keepLastGoodObjects(List<Rejection> rejected,
      Map<Path, List<LocatedObject>> files, List<ConfigProblem> problems) {
    Set<ObjectKey> defined = new HashSet<>();
    files.values().forEach(objects -> objects.forEach(o -> defined.add(o.key())));
    for (Rejection rejection : rejected) {
      RejectedObject reject = rejection.object();
      LocatedObject lastGood = lastGoodObjects.get(reject.key());
      if (lastGood == null || !defined.add(reject.key())) {
        continue;
      }
      List<LocatedObject> objects = new ArrayList<>(files.get(rejection.path()));
      objects.add(new LocatedObject(lastGood.object(), reject.file(), reject.line()));
      objects.sort(Comparator.comparingInt(LocatedObject::line));
      files.put(rejection.path(), objects);
      problems.add(ConfigProblem.warning(reject.file(), reject.line(),
          reject.key() + ": the last good version is still served"));
    }
  }
}
