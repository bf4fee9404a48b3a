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
  /**
   * The last assembly, when it was clean: every file parsed, no object rejected or defined
   * twice, no directory unreadable. The next scan is then assembled from it by looking only at
   * the files that changed ({@link #update}); null otherwise.
   */
  private Clean clean;
  /** How many assemblies went through every file: tests check the others did not. */
  private long wholeAssemblies;

  /**
   * A clean assembly, and its objects per file (path order, then file order), stamped.
   *
   * @param scan the scan it was assembled from
   * @param stamped each file's stamped objects, in path order
   */
  private record Clean(DirectoryScan.Scan scan, TreeMap<Path, List<HasMetadata>> stamped) {}

  /** Whether changed files alone may be assembled; false only in tests, as the reference. */
  private final boolean incremental;

  SnapshotAssembler(MetadataStamper stamper) {
    this(stamper, true);
  }

  /**
   * @param incremental whether an assembly may look only at the files that changed (see
   *     {@link #update}); tests compare that with assembling every file
   */
  SnapshotAssembler(MetadataStamper stamper, boolean incremental) {
    this.stamper = stamper;
    this.incremental = incremental;
  }

  Assembly assemble(DirectoryScan.Scan scan) {
    Assembly updated = clean == null || !incremental ? null : update(clean, scan);
    if (updated != null) {
      return updated;
    }
    clean = null;
    wholeAssemblies++;
    boolean allParsed = true;
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
        allParsed = false;
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
    List<HasMetadata> stamped = stamper.stamp(objects);
    int defined = 0;
    for (List<LocatedObject> list : files.values()) {
      defined += list.size();
    }
    if (allParsed && rejected.isEmpty() && scan.failedDirectories().isEmpty()
        && defined == accepted.size()) {
      // Then the accepted objects are every file's, in path and file order: split per file.
      TreeMap<Path, List<HasMetadata>> byFile = new TreeMap<>();
      int at = 0;
      for (Map.Entry<Path, List<LocatedObject>> file : files.entrySet()) {
        int size = file.getValue().size();
        byFile.put(file.getKey(), List.copyOf(stamped.subList(at, at + size)));
        at += size;
      }
      clean = new Clean(scan, byFile);
    }
    return new Assembly(stamped, problems);
  }

  /** How many assemblies went through every file (the first one does); for tests. */
  long wholeAssemblies() {
    return wholeAssemblies;
  }

  /**
   * Assembles {@code scan} from the last clean assembly by looking only at the files that
   * changed since, when that gives what a whole assembly would: the changed files all parsed,
   * with no object rejected and none defined twice, and no directory unreadable. Returns null
   * otherwise (the caller then assembles everything). At 10k files, a whole assembly was most
   * of a reload's cost for one changed file (bench/scale.py, an EndpointSlice change).
   */
  private Assembly update(Clean last, DirectoryScan.Scan scan) {
    if (!scan.failedDirectories().isEmpty()) {
      return null;
    }
    // Both lists are in path order, and an unchanged file keeps its ReadResult instance
    // (ParsedFiles): one merge finds what changed.
    List<DirectoryScan.FileRead> before = last.scan().files();
    List<DirectoryScan.FileRead> after = scan.files();
    Map<Path, ReadResult> changed = new LinkedHashMap<>();
    List<Path> removed = new ArrayList<>();
    int i = 0;
    int j = 0;
    while (i < before.size() || j < after.size()) {
      if (i < before.size() && j < after.size() && before.get(i) == after.get(j)) {
        i++; // the same FileRead: DirectoryScan.update keeps those of unchanged files
        j++;
        continue;
      }
      int order = i == before.size() ? 1 : j == after.size() ? -1
          : before.get(i).path().compareTo(after.get(j).path());
      if (order < 0) {
        removed.add(before.get(i++).path());
      } else if (order > 0) {
        changed.put(after.get(j).path(), after.get(j++).result());
      } else {
        if (before.get(i).result() != after.get(j).result()) {
          changed.put(after.get(j).path(), after.get(j).result());
        }
        i++;
        j++;
      }
    }
    // Which objects go and come; refuse anything a whole assembly decides otherwise.
    Set<ObjectKey> gone = new HashSet<>();
    for (Path path : removed) {
      lastGoodFiles.get(path).forEach(object -> gone.add(object.key()));
    }
    Map<ObjectKey, Path> comes = new LinkedHashMap<>();
    for (Map.Entry<Path, ReadResult> file : changed.entrySet()) {
      ReadResult result = file.getValue();
      if (!result.parsed() || !result.rejected().isEmpty()) {
        return null;
      }
      List<LocatedObject> old = lastGoodFiles.get(file.getKey());
      if (old != null) {
        old.forEach(object -> gone.add(object.key()));
      }
      for (LocatedObject object : result.objects()) {
        if (comes.putIfAbsent(object.key(), file.getKey()) != null) {
          return null; // defined twice among the changed files
        }
      }
    }
    for (ObjectKey key : comes.keySet()) {
      if (!gone.contains(key) && lastGoodObjects.containsKey(key)) {
        return null; // also defined by a file that did not change
      }
    }

    // From here on, the update is what a whole assembly gives: apply it. (Should it fail half
    // way, the next assembly goes through every file.)
    clean = null;
    TreeMap<Path, List<HasMetadata>> stamped = last.stamped();
    Set<ObjectKey> stale = new HashSet<>(gone);
    stale.removeAll(comes.keySet());
    stale.forEach(lastGoodObjects::remove);
    stamper.forget(stale);
    for (Path path : removed) {
      lastGoodFiles.remove(path);
      stamped.remove(path);
    }
    for (Map.Entry<Path, ReadResult> file : changed.entrySet()) {
      List<LocatedObject> objects = file.getValue().objects();
      lastGoodFiles.put(file.getKey(), objects);
      List<HasMetadata> stampedObjects = new ArrayList<>(objects.size());
      for (LocatedObject object : objects) {
        lastGoodObjects.put(object.key(), object);
        stampedObjects.add(stamper.stamp(object.key(), object.object()));
      }
      stamped.put(file.getKey(), List.copyOf(stampedObjects));
    }
    List<ConfigProblem> problems = new ArrayList<>(scan.problems());
    for (DirectoryScan.FileRead read : after) {
      problems.addAll(read.result().problems());
    }
    List<HasMetadata> objects = new ArrayList<>(lastGoodObjects.size());
    stamped.values().forEach(objects::addAll);
    clean = new Clean(scan, stamped);
    return new Assembly(objects, problems);
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
