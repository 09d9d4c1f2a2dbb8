package io.streamrlhf.evaluator.rmb;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads RMB JSON: one file (an array of records, or a single record), or a folder searched recursively for
 * {@code *.json} files. Because the record's own fields tell pairwise from Best-of-N and carry the scenario
 * ({@code category_path}), any folder layout works: our sample's ({@code pairwise/helpfulness/chat/...json}) and the
 * benchmark's original ({@code RMB_dataset/Pairwise_set/Helpfulness/Chat/Casual Conversation.json}) alike.
 */
public final class RmbReader {
    private static final Logger LOG = LoggerFactory.getLogger(RmbReader.class);

    private RmbReader() {
    }

    /**
     * Reads a file or a folder.
     *
     * @throws RmbFormatException naming the file and record when a record is malformed, or the path when it holds no
     *                            JSON file
     * @throws UncheckedIOException when a file cannot be read
     */
    public static RmbDataset read(Path path) {
        if (!Files.exists(path)) {
            throw new RmbFormatException("RMB path " + path + " does not exist");
        }
        List<Path> files = Files.isDirectory(path) ? jsonFiles(path) : List.of(path);
        if (files.isEmpty()) {
            throw new RmbFormatException("RMB folder " + path + " holds no *.json file");
        }
        List<RmbItem> items = new ArrayList<>();
        for (Path file : files) {
            List<RmbItem> read = readFile(file);
            LOG.debug("read {} RMB items from {}", read.size(), file);
            items.addAll(read);
        }
        return new RmbDataset(items, files);
    }

    /** Reads one file: a JSON array of records, or one record. */
    public static List<RmbItem> readFile(Path file) {
        JsonNode root;
        try {
            root = RmbJson.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new RmbFormatException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read RMB file " + file, e);
        }
        if (root == null || root.isMissingNode()) {
            throw new RmbFormatException(file + ": empty file");
        }
        if (root.isObject()) {
            return List.of(RmbJson.parse(root, file + " record 0"));
        }
        if (!root.isArray()) {
            throw new RmbFormatException(file + ": expected a JSON array of RMB records");
        }
        List<RmbItem> items = new ArrayList<>(root.size());
        for (int i = 0; i < root.size(); i++) {
            items.add(RmbJson.parse(root.get(i), file + " record " + i));
        }
        return items;
    }

    private static List<Path> jsonFiles(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json"))
                    .sorted(Comparator.comparing(p -> dir.relativize(p).toString()))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list RMB folder " + dir, e);
        }
    }
}
