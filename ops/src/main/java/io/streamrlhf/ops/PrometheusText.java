package io.streamrlhf.ops;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests and for {@code rlhf status}
 * to read a service's {@code /metrics}. Written by hand because the Prometheus Java client only writes the format;
 * it rejects what Prometheus itself rejects: a malformed name, label or value, a second {@code TYPE} for one family,
 * a family's samples split by another family, or a sample of a type-less name after a typed one.
 */
public final class PrometheusText {

    /** One sample: metric name (with any {@code _total}, {@code _bucket}... suffix), labels and value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    /** The samples of a scrape, in order, with each family's declared type. */
    public record Scrape(List<Sample> samples, Map<String, String> types) {

        /** Samples of {@code name} whose labels include {@code labels}. */
        public List<Sample> find(String name, Map<String, String> labels) {
            return samples.stream().filter(s -> s.name().equals(name)
                    && s.labels().entrySet().containsAll(labels.entrySet())).toList();
        }

        /** The sum of the samples of {@code name} whose labels include {@code labels} (0 when none). */
        public double sum(String name, Map<String, String> labels) {
            return find(name, labels).stream().mapToDouble(Sample::value).sum();
        }

        /** Every metric name that has a sample. */
        public Set<String> names() {
            Set<String> names = new HashSet<>();
            samples.forEach(s -> names.add(s.name()));
            return names;
        }
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL =
            Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\\\n]|\\\\[\\\\\"n])*)\"\\s*(,|$)");
    private static final Pattern SAMPLE =
            Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)(\\s+-?\\d+)?$");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");
    private static final List<String> SUFFIXES = List.of("_total", "_bucket", "_count", "_sum", "_created", "_max");

    private PrometheusText() {
    }

    /**
     * Parses a scrape.
     *
     * @throws IllegalArgumentException naming the line (1-based) and what is wrong with it
     */
    public static Scrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        Map<String, String> types = new LinkedHashMap<>();
        Set<String> finished = new HashSet<>();
        Map<String, Set<Map<String, String>>> seen = new HashMap<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int no = i + 1;
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] parts = line.split(" ", 4);
                if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
                    String family = parts[2];
                    check(NAME.matcher(family).matches(), no, "bad metric name '" + family + "'");
                    current = enter(family, current, finished, no);
                    if (parts[1].equals("TYPE")) {
                        check(parts.length == 4 && TYPES.contains(parts[3].trim()), no, "bad TYPE line: " + line);
                        check(!types.containsKey(family), no, "second TYPE for '" + family + "'");
                        types.put(family, parts[3].trim());
                    }
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            check(m.matches(), no, "not a sample line: " + line);
            String name = m.group(1);
            Map<String, String> labels = labels(m.group(3), no);
            double value = value(m.group(4), no);
            String family = family(name, types);
            current = enter(family, current, finished, no);
            check(seen.computeIfAbsent(name, n -> new HashSet<>()).add(labels), no,
                    "duplicate series " + name + labels);
            samples.add(new Sample(name, labels, value));
        }
        return new Scrape(List.copyOf(samples), Map.copyOf(types));
    }

    private static String enter(String family, String current, Set<String> finished, int no) {
        if (!family.equals(current)) {
            check(!finished.contains(family), no, "family '" + family + "' is split by another family");
            if (current != null) {
                finished.add(current);
            }
        }
        return family;
    }

    private static String family(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : SUFFIXES) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                if (types.containsKey(base)) {
                    return base;
                }
            }
        }
        return name;
    }

    private static Map<String, String> labels(String body, int no) {
        Map<String, String> labels = new LinkedHashMap<>();
        if (body == null || body.isBlank()) {
            return labels;
        }
        Matcher m = LABEL.matcher(body);
        int at = 0;
        while (at < body.length()) {
            check(m.find(at) && m.start() == at, no, "bad label set {" + body + "}");
            check(labels.put(m.group(1), unescape(m.group(2))) == null, no, "label '" + m.group(1) + "' twice");
            at = m.end();
        }
        return labels;
    }

    private static String unescape(String v) {
        return v.replace("\\n", "\n").replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private static double value(String v, int no) {
        switch (v) {
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            case "NaN":
                return Double.NaN;
            default:
                try {
                    return Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line " + no + ": bad value '" + v + "'");
                }
        }
    }

    private static void check(boolean ok, int no, String what) {
        if (!ok) {
            throw new IllegalArgumentException("line " + no + ": " + what);
        }
    }
}
