package io.streamrlhf.producer.feedback;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The feedback service ({@code rlhf feedback serve}), on the JDK's built-in HTTP server.
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><td>{@code POST /api/feedback}</td><td>one label as JSON ({@link FeedbackParser}); 202 with its id once
 *       it is stored on the {@code feedback} topic</td></tr>
 *   <tr><td>{@code GET /api/pair}</td><td>a prompt and two of its recent generations, for the rater page; 404 while
 *       there is none</td></tr>
 *   <tr><td>{@code GET /rate}</td><td>the rater page: shows the pair, records the click as a HUMAN pairwise
 *       label (pass {@code ?annotator=NAME}; with a token, open it as {@code /rate#token=TOKEN})</td></tr>
 *   <tr><td>{@code GET /health}</td><td>200 {@code ok}</td></tr>
 * </table>
 *
 * Every refusal is a 4xx with a JSON body {@code {"error": "...", "field": "..."}} naming the problem, and nothing
 * is written: 400 malformed or invalid JSON, 401 missing bearer token (when one is configured), 403 wrong token,
 * 404 unknown route, 405 wrong method, 413 body over the size limit, 415 not {@code application/json}.
 */
public final class FeedbackServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(FeedbackServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Server settings.
     *
     * @param bindAddress  interface to listen on, e.g. {@code 0.0.0.0}
     * @param port         port, 0 for any free one
     * @param token        bearer token required on {@code /api/*}; empty for none
     * @param maxBodyBytes largest request body accepted
     */
    public record Options(String bindAddress, int port, Optional<String> token, int maxBodyBytes) {

        /** Checks the values. */
        public Options {
            Objects.requireNonNull(bindAddress, "bindAddress");
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
            }
            if (maxBodyBytes < 256) {
                throw new IllegalArgumentException("--max-body-bytes must be >= 256, got " + maxBodyBytes);
            }
            token = token.filter(t -> !t.isBlank());
        }

        /** Defaults: all interfaces, port 8088, no token, 64 KiB bodies. */
        public static Options defaults() {
            return new Options("0.0.0.0", 8088, Optional.empty(), 64 * 1024);
        }
    }

    private final Options options;
    private final FeedbackSink sink;
    private final RecentGenerations recent;
    private final FeedbackParser parser = new FeedbackParser();
    private final Random random = new Random();
    private final byte[] page;
    private final Counter accepted;
    private final Counter refused;
    private HttpServer server;
    private ExecutorService executor;

    /**
     * @param options settings
     * @param sink    where accepted labels go
     * @param recent  the window the rater page draws pairs from
     * @param meters  where the accepted/refused counters go
     */
    public FeedbackServer(Options options, FeedbackSink sink, RecentGenerations recent, MeterRegistry meters) {
        this.options = options;
        this.sink = sink;
        this.recent = recent;
        this.page = readPage();
        this.accepted = Counter.builder("rlhf.feedback.accepted").register(meters);
        this.refused = Counter.builder("rlhf.feedback.refused").register(meters);
    }

    /** Binds and starts serving. */
    public synchronized FeedbackServer start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(options.bindAddress(), options.port()), 64);
        executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "feedback-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::route);
        server.start();
        LOG.info("feedback service on http://{}:{}/ (rater page /rate, API /api/feedback){}", options.bindAddress(),
                port(), options.token().isPresent() ? ", bearer token required" : "");
        return this;
    }

    /** The port actually bound. */
    public int port() {
        return server.getAddress().getPort();
    }

    private void route(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
            switch (path) {
                case "/health" -> send(exchange, 200, "text/plain; charset=utf-8",
                        "ok\n".getBytes(StandardCharsets.UTF_8));
                case "/", "/rate", "/rate/" -> {
                    if (!method.equals("GET")) {
                        error(exchange, 405, null, "use GET for " + path);
                    } else {
                        exchange.getResponseHeaders().add("Cache-Control", "no-store");
                        send(exchange, 200, "text/html; charset=utf-8", page);
                    }
                }
                case "/api/pair" -> {
                    if (!method.equals("GET")) {
                        error(exchange, 405, null, "use GET for /api/pair");
                    } else if (authorised(exchange)) {
                        pair(exchange);
                    }
                }
                case "/api/feedback" -> {
                    if (!method.equals("POST")) {
                        error(exchange, 405, null, "use POST for /api/feedback");
                    } else if (authorised(exchange)) {
                        feedback(exchange);
                    }
                }
                default -> error(exchange, 404, null, "no such route " + path
                        + "; routes are POST /api/feedback, GET /api/pair, GET /rate, GET /health");
            }
        } catch (RuntimeException e) {
            LOG.error("feedback request failed", e);
            try {
                error(exchange, 500, null, "internal error: " + e.getMessage());
            } catch (IOException | RuntimeException ignored) {
                // the response may have been started already
            }
        }
    }

    private boolean authorised(HttpExchange exchange) throws IOException {
        if (options.token().isEmpty()) {
            return true;
        }
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            exchange.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"rlhf-feedback\"");
            error(exchange, 401, null, "missing bearer token: send 'Authorization: Bearer <token>'");
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        byte[] expected = options.token().get().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, expected)) {  // constant time
            error(exchange, 403, null, "the bearer token is not valid");
            return false;
        }
        return true;
    }

    private void feedback(HttpExchange exchange) throws IOException {
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            error(exchange, 415, null, "Content-Type must be application/json, got "
                    + (contentType == null ? "none" : contentType));
            return;
        }
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.trim()) > options.maxBodyBytes()) {
                    error(exchange, 413, null, "body of " + length.trim() + " bytes exceeds the limit of "
                            + options.maxBodyBytes() + " bytes");
                    return;
                }
            } catch (NumberFormatException e) {
                error(exchange, 400, null, "Content-Length '" + length + "' is not a number");
                return;
            }
        }
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(options.maxBodyBytes() + 1);
        }
        if (body.length > options.maxBodyBytes()) {
            error(exchange, 413, null, "body exceeds the limit of " + options.maxBodyBytes() + " bytes");
            return;
        }
        Feedback feedback;
        try {
            feedback = parser.parse(new String(body, StandardCharsets.UTF_8));
        } catch (FeedbackValidationException e) {
            error(exchange, 400, e.field(), e.getMessage());
            return;
        }
        try {
            sink.write(feedback);
        } catch (RuntimeException e) {
            LOG.error("could not store feedback {}", feedback.getFeedbackId(), e);
            error(exchange, 503, null, "the label could not be stored, try again: " + e.getMessage());
            return;
        }
        accepted.increment();
        ObjectNode ok = JSON.createObjectNode();
        ok.put("status", "accepted");
        ok.put("feedback_id", feedback.getFeedbackId());
        ok.put("kind", feedback.getKind().name().toLowerCase(Locale.ROOT));
        ok.put("source", feedback.getSource().name().toLowerCase(Locale.ROOT));
        send(exchange, 202, "application/json", JSON.writeValueAsBytes(ok));
    }

    private void pair(HttpExchange exchange) throws IOException {
        Optional<RecentGenerations.Pair> pair;
        synchronized (random) {
            pair = recent.randomPair(random);
        }
        if (pair.isEmpty()) {
            error(exchange, 404, null, "no prompt with two generations yet; workers have not generated any");
            return;
        }
        RecentGenerations.Pair p = pair.get();
        ObjectNode out = JSON.createObjectNode();
        out.put("prompt_id", p.promptId());
        out.put("prompt_text", p.promptText());
        ArrayNode gs = out.putArray("generations");
        for (Generation g : new Generation[] {p.first(), p.second()}) {
            ObjectNode o = gs.addObject();
            o.put("generation_id", g.getGenerationId());
            o.put("text", g.getResponseText());
            o.put("policy_version", g.getPolicyVersion());
        }
        exchange.getResponseHeaders().add("Cache-Control", "no-store");
        send(exchange, 200, "application/json", JSON.writeValueAsBytes(out));
    }

    private void error(HttpExchange exchange, int status, String field, String message) throws IOException {
        if (status >= 400 && status < 500) {
            refused.increment();
            LOG.info("refused {} {}: {} {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), status,
                    message);
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        body.put("status", status);
        send(exchange, status, "application/json", JSON.writeValueAsBytes(body));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static byte[] readPage() {
        try (InputStream in = FeedbackServer.class.getResourceAsStream("rater.html")) {
            if (in == null) {
                throw new IllegalStateException("rater.html is missing from the producer jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read rater.html: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(1);
            executor.shutdown();
            try {
                executor.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            server = null;
        }
    }
}
