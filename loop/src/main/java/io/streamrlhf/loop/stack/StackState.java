package io.streamrlhf.loop.stack;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * What a running stack writes to {@value #FILE} in its directory, and {@code rlhf stack status|down} read: the stack's
 * own pid, its cluster, and each process with its pid, command, restarts and consumer group. Rewritten (atomically)
 * every few seconds while the stack runs.
 *
 * @param stackPid    the pid of {@code rlhf stack up} (what {@code rlhf stack down} sends SIGTERM to)
 * @param phase       starting, running, stopping or stopped
 * @param startedAt   when the stack started (epoch millis)
 * @param updatedAt   when this file was written (epoch millis)
 * @param dir         the stack's directory
 * @param bootstrap   the cluster's bootstrap servers (null until known)
 * @param registry    its schema registry URL
 * @param topicPrefix the topics' prefix
 * @param policyName  the policy's name on policy.versions
 * @param processes   every process
 * @param adminConfig on a secure cluster, the admin user's client properties file, which {@code rlhf stack status}
 *                    reads the cluster with (the file, not the password, is named here); null on a plaintext one
 * @param feedbackUrl the stack's feedback server ({@code POST URL/api/feedback}, the rater page at {@code URL/rate})
 */
public record StackState(@JsonProperty("stack_pid") long stackPid, String phase,
                         @JsonProperty("started_at") long startedAt, @JsonProperty("updated_at") long updatedAt,
                         String dir, String bootstrap, String registry, @JsonProperty("topic_prefix") String topicPrefix,
                         @JsonProperty("policy_name") String policyName, List<Process> processes,
                         @JsonProperty("admin_config") String adminConfig,
                         @JsonProperty("feedback_url") String feedbackUrl) {

    /** The state file's name in the stack's directory. */
    public static final String FILE = "stack.json";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public StackState {
        processes = processes == null ? List.of() : List.copyOf(processes);
    }

    /**
     * One process.
     *
     * @param name     its name in the stack
     * @param kind     its kind's service name ({@code worker}, {@code score}, ...)
     * @param pid      its current pid (-1 before it started)
     * @param alive    whether it ran when the file was written
     * @param restarts how often it was restarted
     * @param lastExit its last exit status, or null
     * @param command  the {@code rlhf} command line it runs
     * @param log      its log file
     * @param group    the consumer group whose lag is its own, or null
     */
    public record Process(String name, String kind, long pid, boolean alive, int restarts,
                          @JsonProperty("last_exit") Integer lastExit, List<String> command, String log,
                          String group) {
        public Process {
            command = command == null ? List.of() : List.copyOf(command);
        }
    }

    /** The state file of the stack in {@code dir}. */
    public static Path file(Path dir) {
        return dir.resolve(FILE);
    }

    /** Writes it atomically (a reader never sees half a file). */
    public void write(Path dir) {
        Path target = file(dir);
        Path tmp = dir.resolve(FILE + ".tmp");
        try {
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), this);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the stack's state file " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the state file of the stack in {@code dir}.
     *
     * @throws IllegalArgumentException naming the file when there is none or it cannot be read
     */
    public static StackState read(Path dir) {
        Path f = file(dir);
        try {
            return JSON.readValue(Files.readString(f), StackState.class);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no stack in " + dir.toAbsolutePath() + ": " + f + " does not exist "
                    + "('rlhf stack up --dir " + dir + "' writes it)");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the stack's state file " + f + ": " + e.getMessage(), e);
        }
    }

    /** Whether the {@code rlhf stack up} process that wrote this runs. */
    public boolean stackAlive() {
        return ProcessHandle.of(stackPid).map(ProcessHandle::isAlive).orElse(false);
    }
}
