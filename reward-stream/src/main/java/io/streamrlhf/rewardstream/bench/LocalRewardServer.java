package io.streamrlhf.rewardstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * A reward server on the loopback interface for {@code rlhf bench scoring --reward http:local}: it speaks the
 * {@code http:URL} protocol of {@link io.streamrlhf.rewardstream.scoring.remote.RemoteRewardSource} (POST
 * {@code {"items":[{"response":...},...]}}, answer {@code {"scores":[...]}}) and scores a response by its length in
 * characters, so the benchmark measures the client, its batching and the stream around it rather than a model.
 * It runs in the benchmark's own JVM and so takes CPU from both measurements alike.
 */
public final class LocalRewardServer implements AutoCloseable {

    /** The target that names this server in a spec: {@code http:local}. */
    public static final String LOCAL = "local";

    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        // The JDK server writes headers and body separately; without TCP_NODELAY the body waits for the client's
        // delayed ACK, about 40 ms a request on Linux, and the benchmark would measure that wait. Read once per JVM,
        // when the first server starts, so it is set only when nobody chose a value.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final AtomicLong requests = new AtomicLong();
    private final long delayMillis;

    private LocalRewardServer(HttpServer server, ExecutorService executor, long delayMillis) {
        this.server = server;
        this.executor = executor;
        this.delayMillis = delayMillis;
    }

    /** Starts a server on a free loopback port with {@code threads} request threads, answering at once. */
    public static LocalRewardServer start(int threads) {
        return start(threads, 0);
    }

    /**
     * Starts a server on a free loopback port with {@code threads} request threads, each request answered after
     * {@code delayMillis} (a model's inference time, say; sleeping, so it costs no CPU).
     */
    public static LocalRewardServer start(int threads, long delayMillis) {
        if (delayMillis < 0) {
            throw new IllegalArgumentException("the local reward server's delay must be >= 0 ms, got " + delayMillis);
        }
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "local-reward-server");
                t.setDaemon(true);
                return t;
            });
            LocalRewardServer local = new LocalRewardServer(server, executor, delayMillis);
            server.createContext("/score", local::handle);
            server.setExecutor(executor);
            server.start();
            return local;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the local reward server on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    /** Whether {@code specs} (a comma-separated list) names {@code http:local}. */
    public static boolean named(String specs) {
        return RewardSpec.parseList(specs).stream().anyMatch(LocalRewardServer::isLocal);
    }

    /** {@code specs} with every {@code http:local} pointed at {@code url}, their options kept. */
    public static String resolve(String specs, String url) {
        List<RewardSpec> parsed = RewardSpec.parseList(specs);
        return parsed.stream().map(s -> isLocal(s) ? new RewardSpec("http", url, s.options()) : s)
                .map(RewardSpec::toString).collect(Collectors.joining(","));
    }

    private static boolean isLocal(RewardSpec spec) {
        return spec.kind().equals("http") && spec.target().equals(LOCAL);
    }

    /** Its scoring endpoint, {@code http://127.0.0.1:PORT/score}. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/score";
    }

    /** Requests answered so far. */
    public long requests() {
        return requests.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;  // closing: the client sees the connection end and retries or fails the batch
                }
            }
            ObjectNode reply = JSON.createObjectNode();
            ArrayNode scores = reply.putArray("scores");
            for (JsonNode item : body.path("items")) {
                String response = item.path("response").asText();
                scores.add(response.codePointCount(0, response.length()));
            }
            byte[] bytes = JSON.writeValueAsBytes(reply);
            // Counted before the answer goes out: a client that has its answer must see its request counted.
            requests.incrementAndGet();
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
