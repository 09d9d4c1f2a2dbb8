package io.streamrlhf.loop.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A request to a running stack to start one more worker or scorer, or to stop one ({@code rlhf stack add|remove}).
 * The stack and the command share only the stack's directory, so a request is a file in {@code DIR/requests}
 * ({@code <time>-<id>.request}, one line: {@code add worker}), which {@link StackRunner} reads on its next tick and
 * answers with {@code <time>-<id>.answer} (JSON) once the process was started or has stopped.
 *
 * @param id     the file name's stem: the time it was made (so requests are answered in order) and a random id
 * @param action what to do
 * @param target the kind to add ({@code worker}, {@code scorer}) or the process to remove ({@code worker-2})
 */
public record ScaleRequest(String id, Action action, String target) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REQUEST = ".request";
    private static final String ANSWER = ".answer";

    /** What a request asks for. */
    public enum Action {
        /** Start one more process of a kind. */
        ADD,
        /** Stop one process (SIGTERM, its kind's grace, then SIGKILL) and forget it. */
        REMOVE
    }

    /**
     * The stack's answer.
     *
     * @param ok      whether it was done
     * @param name    the process started or stopped; null when refused
     * @param pid     its pid; -1 when refused
     * @param message what was done, or why not, for people
     */
    public record Answer(boolean ok, String name, long pid, String message) {

        /** A refusal, saying why. */
        public static Answer refused(String why) {
            return new Answer(false, null, -1, why);
        }
    }

    public ScaleRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(target, "target");
    }

    /**
     * The kind a request names: {@code worker}, or {@code scorer} (also {@code score}, its process names' prefix).
     *
     * @throws IllegalArgumentException for any other name, listing those accepted
     */
    public static ProcessKind kind(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("worker")) {
            return ProcessKind.WORKER;
        }
        if (n.equals("scorer") || n.equals("score")) {
            return ProcessKind.SCORER;
        }
        throw new IllegalArgumentException("cannot add a '" + name + "' to a running stack: the kinds are worker and "
                + "scorer");
    }

    /** Where a stack's requests lie. */
    static Path directory(Path stackDir) {
        return stackDir.resolve("requests");
    }

    /**
     * Writes the request and waits for the stack's answer.
     *
     * @throws IllegalStateException when no answer comes within {@code timeout} (the request is withdrawn), or the
     *                               stack stops meanwhile
     */
    public static Answer submit(Path stackDir, Action action, String target, Duration timeout)
            throws InterruptedException {
        if (action == Action.ADD) {
            kind(target);  // refused here, before the stack is bothered
        }
        Path requests = directory(stackDir);
        String id = String.format(Locale.ROOT, "%015d-%s", System.currentTimeMillis(),
                UUID.randomUUID().toString().substring(0, 8));
        Path request = requests.resolve(id + REQUEST);
        Path answer = requests.resolve(id + ANSWER);
        try {
            Files.createDirectories(requests);
            Path tmp = requests.resolve(id + ".tmp");
            Files.writeString(tmp, action.name().toLowerCase(Locale.ROOT) + " " + target + "\n");
            Files.move(tmp, request, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a request into " + requests + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Answer a = JSON.readValue(Files.readString(answer), Answer.class);
                Files.deleteIfExists(answer);
                return a;
            } catch (NoSuchFileException e) {
                // not answered yet
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the stack's answer " + answer + ": " + e.getMessage(), e);
            }
            StackState state = StackState.read(stackDir);
            if (!state.stackAlive() && Files.notExists(answer)) {
                deleteQuietly(request);
                throw new IllegalStateException("the stack in " + stackDir + " does not run (pid " + state.stackPid()
                        + ", last " + state.phase() + ")");
            }
            Thread.sleep(200);
        }
        deleteQuietly(request);
        throw new IllegalStateException("the stack in " + stackDir + " did not answer within " + timeout.toSeconds()
                + " s; its log says why (stderr of 'rlhf stack up')");
    }

    /** The requests written and not answered yet, oldest first; a malformed one is answered with a refusal. */
    static List<ScaleRequest> pending(Path stackDir) {
        Path requests = directory(stackDir);
        if (!Files.isDirectory(requests)) {
            return List.of();
        }
        List<ScaleRequest> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(requests)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(REQUEST)).sorted().toList()) {
                String name = f.getFileName().toString();
                String id = name.substring(0, name.length() - REQUEST.length());
                String[] words = Files.readString(f).trim().split("\\s+");
                Action action = words.length == 2 ? actionOf(words[0]) : null;
                if (action == null) {
                    new ScaleRequest(id, Action.ADD, "").answer(stackDir, Answer.refused("request " + f
                            + " is not 'add KIND' or 'remove NAME'"));
                } else {
                    out.add(new ScaleRequest(id, action, words[1]));
                }
            }
        } catch (NoSuchFileException e) {
            // answered and removed meanwhile
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the requests in " + requests + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Writes the answer (atomically, so the waiting command never reads half of it) and removes the request. */
    void answer(Path stackDir, Answer answer) {
        Path requests = directory(stackDir);
        Path tmp = requests.resolve(id + ".answer.tmp");
        try {
            JSON.writeValue(tmp.toFile(), answer);
            Files.move(tmp, requests.resolve(id + ANSWER), StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(requests.resolve(id + REQUEST));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot answer request " + id + " in " + requests + ": " + e.getMessage(),
                    e);
        }
    }

    private static Action actionOf(String word) {
        return switch (word) {
            case "add" -> Action.ADD;
            case "remove" -> Action.REMOVE;
            default -> null;
        };
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            // the stack skips a request it cannot read twice: it answers it and removes it
        }
    }
}
