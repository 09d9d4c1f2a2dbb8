package io.streamrlhf.loop.stack;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * The client properties files of a secure cluster's users, one {@code <user>.properties} each as {@code rlhf cluster
 * up --secure} writes them ({@code worker}, {@code scorer}, {@code learner}, {@code rm-trainer}, {@code feedback},
 * {@code evaluator}, {@code admin}): each stack process's config file takes its own user's credentials from them
 * ({@link ProcessKind#user()}), and the stack's own admin work (topics, {@code stack status}) runs as {@value #ADMIN}.
 *
 * @param files each user's file, by user name
 */
public record StackSecurity(Map<String, Path> files) {

    /** The super user the stack creates topics and reads every group's lag as. */
    public static final String ADMIN = "admin";
    /** Keys of a client file that say where the cluster is: the stack's own values are used instead. */
    static final Set<String> LOCATION = Set.of("bootstrap.servers", "schema.registry.url", "topic.prefix");

    public StackSecurity {
        files = Map.copyOf(files);
    }

    /**
     * The files {@code DIR/<user>.properties} of {@code users} (and {@value #ADMIN}).
     *
     * @throws IllegalArgumentException naming every missing file
     */
    public static StackSecurity inDirectory(Path dir, Collection<String> users) {
        Map<String, Path> files = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        List<String> all = new ArrayList<>(users);
        if (!all.contains(ADMIN)) {
            all.add(ADMIN);
        }
        for (String user : all) {
            Path file = dir.resolve(user + ".properties");
            if (Files.isRegularFile(file)) {
                files.put(user, file);
            } else {
                missing.add(file.toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("--config " + dir + ": no client properties for " + missing.size()
                    + (missing.size() == 1 ? " user: " : " users: ") + String.join(", ", missing) + " (one "
                    + "<user>.properties per user, as 'rlhf cluster up --secure' writes them in DATA/secure/clients)");
        }
        return new StackSecurity(files);
    }

    /** The users the processes of {@code kinds} run as, and {@value #ADMIN}. */
    public static List<String> usersOf(Collection<ProcessKind> kinds) {
        List<String> users = new ArrayList<>();
        kinds.stream().map(ProcessKind::user).filter(Objects::nonNull).filter(u -> !users.contains(u))
                .forEach(users::add);
        users.add(ADMIN);
        return users;
    }

    /** The file of {@code user}. */
    public Path file(String user) {
        Path file = files.get(user);
        if (file == null) {
            throw new IllegalArgumentException("no client properties file for user '" + user + "' (have "
                    + new TreeMap<>(files).keySet() + ")");
        }
        return file;
    }

    /** Every setting of {@code user}'s file. */
    public Map<String, String> properties(String user) {
        Path file = file(user);
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the client properties file " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> out = new TreeMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    /**
     * {@code user}'s credentials: its file's settings without those that say where the cluster is.
     *
     * @throws IllegalArgumentException when the file names another topic prefix than {@code topicPrefix} (the ACLs
     *                                  are granted on the cluster's prefix)
     */
    public Map<String, String> credentials(String user, String topicPrefix) {
        Map<String, String> all = properties(user);
        String prefix = all.get("topic.prefix");
        if (prefix != null && !prefix.equals(topicPrefix)) {
            throw new IllegalArgumentException(file(user) + " is for topic prefix '" + prefix + "', the stack's is '"
                    + topicPrefix + "': the users' ACLs are granted on the cluster's prefix; pass --topic-prefix "
                    + prefix);
        }
        all.keySet().removeAll(LOCATION);
        return all;
    }
}
