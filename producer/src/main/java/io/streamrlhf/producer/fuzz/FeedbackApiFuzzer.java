package io.streamrlhf.producer.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.producer.feedback.FeedbackServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends {@link FeedbackRequests} to a running feedback server and sorts every answer: accepted (2xx), rejected (4xx
 * with a JSON body whose {@code error} names the problem), a crash (5xx, another status, a 4xx without a reason, or
 * the connection failing) or a hang (no answer within the timeout). It remembers the ids of the labels the server
 * accepted, so a caller can check that exactly those were stored.
 */
public final class FeedbackApiFuzzer implements AutoCloseable {

    /** What a run found; the counts are totals over every request sent through this fuzzer. */
    public static final class Tally {
        private final AtomicLong requests = new AtomicLong();
        private final AtomicLong accepted = new AtomicLong();
        private final AtomicLong rejected4xx = new AtomicLong();
        private final AtomicLong crashes = new AtomicLong();
        private final AtomicLong hangs = new AtomicLong();
        private final Set<String> acceptedIds = ConcurrentHashMap.newKeySet();
        private final List<String> failures = Collections.synchronizedList(new ArrayList<>());

        /** Requests sent. */
        public long requests() {
            return requests.get();
        }

        /** Answered 2xx. */
        public long accepted() {
            return accepted.get();
        }

        /** Answered 4xx with a reason. */
        public long rejected4xx() {
            return rejected4xx.get();
        }

        /** Answered 5xx or otherwise wrongly, or the connection failed. */
        public long crashes() {
            return crashes.get();
        }

        /** Not answered in time. */
        public long hangs() {
            return hangs.get();
        }

        /** The {@code feedback_id}s of labels answered 202 (stored). */
        public Set<String> acceptedIds() {
            return Set.copyOf(acceptedIds);
        }

        /** The first crashes and hangs, described. */
        public List<String> failures() {
            synchronized (failures) {
                return List.copyOf(failures);
            }
        }

        private void fail(AtomicLong counter, String what) {
            counter.incrementAndGet();
            if (failures.size() < 20) {
                failures.add(what);
            }
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final Duration timeout;
    private final HttpClient http;
    private final ExecutorService clientThreads;
    private final Tally tally = new Tally();

    /**
     * @param base    the server's address, such as {@code http://127.0.0.1:8088}
     * @param timeout how long an answer may take before it counts as a hang
     */
    public FeedbackApiFuzzer(URI base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
        this.clientThreads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "feedback-fuzz-client");
            t.setDaemon(true);
            return t;
        });
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout)
                .executor(clientThreads).build();
    }

    /** The totals so far. */
    public Tally tally() {
        return tally;
    }

    /**
     * Sends {@code n} requests from {@code generator}, {@code connections} at a time (each on its own connection
     * where the client opens more), drawing them from {@code random} in order so a seed repeats the run.
     */
    public Tally run(FeedbackRequests generator, Random random, int n, int connections) throws InterruptedException {
        List<FeedbackRequests.Request> requests = new ArrayList<>(Math.min(n, 4096));
        ExecutorService senders = Executors.newFixedThreadPool(connections, r -> {
            Thread t = new Thread(r, "feedback-fuzz-sender");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int sent = 0; sent < n; sent += requests.size()) {
                requests.clear();
                for (int i = 0; i < Math.min(4096, n - sent); i++) {
                    requests.add(generator.next(random));
                }
                List<Future<?>> pending = new ArrayList<>();
                for (FeedbackRequests.Request r : requests) {
                    pending.add(senders.submit(() -> send(r)));
                }
                for (Future<?> f : pending) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        tally.fail(tally.crashes, "the fuzzer itself failed: " + e.getCause());
                    }
                }
            }
        } finally {
            senders.shutdownNow();
        }
        return tally;
    }

    /** Sends one request and sorts its answer into the tally; returns the status, or -1 for none. */
    public int send(FeedbackRequests.Request request) {
        tally.requests.incrementAndGet();
        HttpRequest.BodyPublisher body = request.body().length == 0 ? HttpRequest.BodyPublishers.noBody()
                : request.chunked() ? HttpRequest.BodyPublishers.ofInputStream(
                        () -> new ByteArrayInputStream(request.body()))
                : HttpRequest.BodyPublishers.ofByteArray(request.body());
        HttpRequest.Builder builder = HttpRequest.newBuilder(base.resolve(request.path())).timeout(timeout)
                .method(request.method(), body);
        if (request.contentType() != null) {
            builder.header("Content-Type", request.contentType());
        }
        HttpResponse<byte[]> response;
        try {
            response = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            tally.fail(tally.hangs, "no answer within " + timeout + ": " + request.describe());
            return -1;
        } catch (IOException e) {
            if (request.body().length > FeedbackServer.DRAIN_BYTES) {
                // The server answers 413 and closes without reading a body this long; the client may see the reset
                // before it reads the answer. That is a refusal, not a failure.
                tally.rejected4xx.incrementAndGet();
                return 413;
            }
            tally.fail(tally.crashes, "connection failed (" + e + "): " + request.describe());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (IllegalArgumentException e) {
            // The client refuses to send this request at all (an odd path or header): nothing reached the server.
            tally.requests.decrementAndGet();
            return -1;
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            tally.accepted.incrementAndGet();
            if (status == 202 && request.feedbackId() != null) {
                tally.acceptedIds.add(request.feedbackId());
            } else if (status == 202) {
                String id = field(response.body(), "feedback_id");
                if (id != null) {
                    tally.acceptedIds.add(id);
                }
            }
        } else if (status >= 400 && status < 500 && field(response.body(), "error") != null) {
            tally.rejected4xx.incrementAndGet();
        } else {
            tally.fail(tally.crashes, "answered " + status + " "
                    + new String(response.body(), StandardCharsets.UTF_8) + " to " + request.describe());
        }
        return status;
    }

    /**
     * Opens {@code connections} connections that each promise a body and send only part of it, then wait. The
     * server must close each within {@code readTimeout} and a grace; a connection still open after that counts as
     * a hang.
     *
     * @return how many the server closed in time
     */
    public int slowBodies(int connections, Duration readTimeout) throws IOException {
        List<Socket> sockets = new ArrayList<>();
        int closed = 0;
        try {
            for (int i = 0; i < connections; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(base.getHost(), base.getPort()), (int) timeout.toMillis());
                OutputStream out = s.getOutputStream();
                out.write(("POST /api/feedback HTTP/1.1\r\nHost: " + base.getHost() + "\r\nContent-Type: "
                        + "application/json\r\nContent-Length: 200\r\n\r\n{\"kind\":")
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
                sockets.add(s);
            }
            long deadline = System.nanoTime() + readTimeout.plus(timeout).toNanos();
            for (Socket s : sockets) {
                tally.requests.incrementAndGet();
                int waitMs = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                s.setSoTimeout(waitMs);
                try (InputStream in = s.getInputStream()) {
                    byte[] answer = in.readAllBytes();
                    // Closed without an answer (the body never came), or answered 4xx: both a refusal.
                    String text = new String(answer, StandardCharsets.US_ASCII);
                    if (answer.length == 0 || text.startsWith("HTTP/1.1 4")) {
                        tally.rejected4xx.incrementAndGet();
                        closed++;
                    } else {
                        tally.fail(tally.crashes, "a slow body was answered " + text.lines().findFirst().orElse(""));
                    }
                } catch (SocketTimeoutException e) {
                    tally.fail(tally.hangs, "a slow body's connection was still open after "
                            + readTimeout.plus(timeout));
                } catch (IOException e) {
                    tally.rejected4xx.incrementAndGet();  // reset by the server: refused
                    closed++;
                }
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        return closed;
    }

    /** Whether the server still answers {@code GET /health} with 200 within the timeout. */
    public boolean healthy() {
        try {
            return http.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(timeout).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String field(byte[] body, String name) {
        try {
            JsonNode node = JSON.readTree(body);
            JsonNode value = node == null ? null : node.get(name);
            return value != null && value.isTextual() && !value.asText().isBlank() ? value.asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public void close() {
        clientThreads.shutdownNow();
    }
}
