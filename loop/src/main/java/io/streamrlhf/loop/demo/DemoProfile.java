package io.streamrlhf.loop.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The demo profile: the tuned settings {@code rlhf demo} runs its components with, as one properties file
 * ({@value #RESOURCE} in the loop module's jar) that the service commands ({@code rlhf learn|score|worker|train-rm
 * --config FILE}) accept as it is. It holds the {@code worker.*}, {@code reward.*}/{@code scoring.*},
 * {@code learner.*}/{@code ppo.*} and {@code rm.*} keys and the topics' partitions; what a run decides (cluster,
 * directories, starting checkpoints, reward sources, the options it was given) is overlaid by {@link DemoSettings}.
 *
 * @param text   the file as it is, comments included (what {@code rlhf demo --print-profile} prints)
 * @param values its settings, by key
 */
public record DemoProfile(String text, Map<String, String> values) {

    /** Where the profile lies on the class path. */
    public static final String RESOURCE = "/io/streamrlhf/loop/demo.properties";

    public DemoProfile {
        values = Map.copyOf(values);
    }

    /** The profile shipped with the loop module. */
    public static DemoProfile demo() {
        try (InputStream in = DemoProfile.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the demo profile " + RESOURCE + " is missing from the class path");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the demo profile " + RESOURCE, e);
        }
    }

    /** A profile from the text of a properties file (values trimmed, as the service commands read them). */
    public static DemoProfile parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> values = new TreeMap<>();
        p.forEach((k, v) -> values.put((String) k, ((String) v).trim()));
        return new DemoProfile(text, values);
    }

    /** The value of {@code key}; fails naming the key when the profile lacks it. */
    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalStateException("the demo profile " + RESOURCE + " has no " + key);
        }
        return v;
    }

    /** The value of an integer {@code key}. */
    public int getInt(String key) {
        return Integer.parseInt(get(key));
    }

    /** The settings whose keys start with one of {@code prefixes}. */
    public Map<String, String> withPrefixes(String... prefixes) {
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            for (String prefix : prefixes) {
                if (k.startsWith(prefix)) {
                    out.put(k, v);
                    return;
                }
            }
        });
        return out;
    }
}
