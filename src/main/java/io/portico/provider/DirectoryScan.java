package io.portico.provider;

import io.portico.resource.ConfigProblem;
import io.portico.resource.YamlResourceReader.ReadResult;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads every configuration file under a directory, in path order.
 *
 * <p>Files are {@code *.yaml}, {@code *.yml} and {@code *.json}. Names starting with '.' are
 * skipped and symbolic links followed, so that a ConfigMap volume (whose files are links through
 * the hidden {@code ..data} directory) is read once, through its visible names.
 */
final class DirectoryScan {

  /**
   * One file and what was read from it.
   *
   * @param path the file, under the scanned directory
   * @param result what the reader made of it (a failed result if it could not be read)
   */
  record FileRead(Path path, ReadResult result) {}

  /**
   * Everything read from the directory.
   *
   * @param files the configuration files, in path order
   * @param failedDirectories subdirectories that could not be listed (their files are unknown)
   * @param problems problems with the directory tree itself
   * @param throughLinks whether any file or directory was reached through a symbolic link
   */
  record Scan(List<FileRead> files, List<Path> failedDirectories, List<ConfigProblem> problems,
      boolean throughLinks) {}

  private DirectoryScan() {}

  /** Fails with a message naming the path unless {@code root} is a readable directory. */
  static void checkDirectory(Path root) throws IOException {
    if (!Files.exists(root)) {
      throw new IOException("configuration directory " + root + " does not exist");
    }
    if (!Files.isDirectory(root)) {
      throw new IOException("configuration directory " + root + " is not a directory");
    }
    if (!Files.isReadable(root)) {
      throw new IOException("configuration directory " + root + " is not readable");
    }
  }

  /**
   * Reads the directory, calling {@code onDirectory} for each directory before its files are read
   * (so that a watch on it sees any change made after that).
   *
   * @throws IOException if {@code root} itself cannot be read
   */
  static Scan read(Path root, ParsedFiles reader, SettledFiles settled,
      Consumer<Path> onDirectory) throws IOException {
    checkDirectory(root);
    reader.beginScan();
    List<Path> files = new ArrayList<>();
    Map<Path, BasicFileAttributes> attributes = new HashMap<>();
    List<Path> failedDirectories = new ArrayList<>();
    List<ConfigProblem> problems = new ArrayList<>();
    boolean[] links = new boolean[1];
    Files.walkFileTree(root, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (!dir.equals(root) && isHidden(dir)) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            if (!links[0] && Files.isSymbolicLink(dir)) {
              links[0] = true; // one link is enough to know: no lstat per path after it
            }
            onDirectory.accept(dir);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            if (!isHidden(file) && isConfigFile(file) && !attrs.isDirectory()) {
              if (!links[0] && Files.isSymbolicLink(file)) {
                links[0] = true;
              }
              files.add(file);
              attributes.put(file, attrs);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (file.equals(root)) {
              throw e;
            }
            if (isHidden(file)) {
              return FileVisitResult.CONTINUE;
            }
            if (e instanceof FileSystemLoopException) {
              problems.add(ConfigProblem.warning(file.toString(), 0,
                  "skipped: symbolic link loop"));
            } else if (isConfigFile(file)) {
              files.add(file);
            } else {
              failedDirectories.add(file);
              problems.add(ConfigProblem.error(file.toString(), 0,
                  "cannot read: " + describe(e)));
            }
            return FileVisitResult.CONTINUE;
          }
        });
    files.sort(null);
    List<FileRead> reads = readAll(files, file -> {
      ReadResult unchanged = reader.unchanged(file, attributes.get(file));
      return new FileRead(file, unchanged != null ? unchanged
          : readFile(file, attributes.get(file), reader, settled, false));
    });
    reader.endScan();
    return new Scan(reads, failedDirectories, problems, links[0]);
  }

  /** Below this many files, one thread reads them all. */
  private static final int PARALLEL_FILES = 64;

  /**
   * Returns {@code read} of every file, in order, read on up to four threads of a pool made for
   * this scan. Reading and parsing is most of a whole read at thousands of files (10k routes:
   * ~1.8 s of CPU on one thread before the first table, async-profiler), and the files are
   * independent. Not the common pool: a file still being written makes its reader sleep (see
   * SettledFiles), which must not hold up other users of that pool.
   */
  private static List<FileRead> readAll(List<Path> files,
      java.util.function.Function<Path, FileRead> read) {
    int threads = Math.min(4, Runtime.getRuntime().availableProcessors());
    if (threads < 2 || files.size() < PARALLEL_FILES) {
      List<FileRead> reads = new ArrayList<>(files.size());
      files.forEach(file -> reads.add(read.apply(file)));
      return reads;
    }
    java.util.concurrent.ForkJoinPool pool = new java.util.concurrent.ForkJoinPool(threads);
    try {
      return pool.submit(() -> files.parallelStream().map(read).toList()).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + files.size() + " files", e);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Returns {@code previous} with the given files read again (or dropped, when gone): what a
   * whole {@link #read} would give when nothing else under {@code root} changed, without
   * listing and stat-ing every file (at 10k files, most of a reload's cost). The caller must
   * know that only these files can have changed: the watcher names them, and asks for a whole
   * read when a directory or link changed or events were lost.
   *
   * @param changed the files the watcher named, with true for those that only appeared
   *     (renamed into place): those are read without waiting for them to settle
   */
  static Scan update(Path root, Scan previous, Map<Path, Boolean> changed, ParsedFiles reader,
      SettledFiles settled) {
    // The previous list is in path order: each named file is found (or placed) by binary search.
    List<FileRead> files = new ArrayList<>(previous.files());
    List<Path> paths = new java.util.AbstractList<>() {
      @Override
      public Path get(int index) {
        return files.get(index).path();
      }

      @Override
      public int size() {
        return files.size();
      }
    };
    boolean changedAny = false;
    reader.beginUpdate();
    for (Map.Entry<Path, Boolean> entry : changed.entrySet()) {
      Path file = entry.getKey();
      if (!file.startsWith(root) || isHidden(file) || !isConfigFile(file)) {
        continue;
      }
      int at = java.util.Collections.binarySearch(paths, file);
      BasicFileAttributes attributes;
      try {
        attributes = Files.readAttributes(file, BasicFileAttributes.class);
      } catch (NoSuchFileException e) {
        if (at >= 0) {
          files.remove(at);
          reader.forget(file);
          changedAny = true;
        }
        continue;
      } catch (IOException e) {
        attributes = null; // read below, which reports why it cannot be
      }
      if (attributes != null && attributes.isDirectory()) {
        continue; // the watcher asks for a whole read for directories; never here
      }
      ReadResult unchanged = reader.unchanged(file, attributes);
      FileRead read = new FileRead(file, unchanged != null ? unchanged
          : readFile(file, attributes, reader, settled, entry.getValue()));
      if (at >= 0) {
        changedAny |= files.get(at).result() != read.result();
        files.set(at, read);
      } else {
        files.add(-at - 1, read);
        changedAny = true;
      }
    }
    reader.endScan();
    // The same Scan when nothing named was a change (an editor's swap file, a touch): the
    // caller then has nothing to assemble.
    return changedAny ? new Scan(List.copyOf(files), previous.failedDirectories(),
        previous.problems(), previous.throughLinks()) : previous;
  }

  private static ReadResult readFile(Path file, BasicFileAttributes attributes,
      ParsedFiles reader, SettledFiles settled, boolean appeared) {
    String content;
    try {
      content = settled.read(file, appeared);
      if (content == null) {
        // Its last complete version stays served (a failed read keeps it).
        return ReadResult.failed(ConfigProblem.warning(file.toString(), 0,
            "still being written (its size or modification time kept changing for "
                + settled.maxWait().toMillis() + " ms); read again once it has held still for "
                + settled.settle().toMillis() + " ms"));
      }
    } catch (IOException e) {
      return ReadResult.failed(ConfigProblem.error(file.toString(), 0,
          "cannot read: " + describe(e)));
    }
    return reader.read(file, attributes, content);
  }

  private static String describe(IOException e) {
    if (e instanceof MalformedInputException) {
      return "not UTF-8 text";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file (deleted while being read, or a broken symbolic link)";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.toString();
  }

  private static boolean isHidden(Path path) {
    Path name = path.getFileName();
    return name != null && name.toString().startsWith(".");
  }

  private static boolean isConfigFile(Path path) {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }
}
