package io.streamrlhf.rewardstream.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A chat-completions server for tests: answers {@code POST /v1/chat/completions} with a verdict computed from the
 * user message, after an optional delay, or with an HTTP error status. Records every user message it was sent.
 */
public final class JudgeServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    public final List<String> userMessages = new CopyOnWriteArrayList<>();
    public final List<String> models = new CopyOnWriteArrayList<>();
    public final List<Integer> maxTokens = new CopyOnWriteArrayList<>();
    public final AtomicInteger requests = new AtomicInteger();
    private volatile Function<String, String> verdict = user -> "5";
    private volatile int status = 200;
    private volatile long delayMs;

    public JudgeServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/chat/completions");
    }

    public JudgeServer verdict(Function<String, String> f) {
        this.verdict = f;
        return this;
    }

    public JudgeServer status(int code) {
        this.status = code;
        return this;
    }

    public JudgeServer delayMs(long ms) {
        this.delayMs = ms;
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        try (exchange) {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            String user = body.path("messages").path(1).path("content").asText();
            userMessages.add(user);
            models.add(body.path("model").asText());
            maxTokens.add(body.path("max_tokens").asInt());
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            byte[] out;
            int code = status;
            if (code == 200) {
                var reply = JSON.createObjectNode();
                reply.put("id", "cmpl-1").put("object", "chat.completion");
                reply.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop")
                        .putObject("message").put("role", "assistant").put("content", verdict.apply(user));
                out = JSON.writeValueAsBytes(reply);
            } else {
                out = "{\"error\":{\"message\":\"judge is down\"}}".getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(code, out.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            }
        } catch (IOException e) {
            // the client gave up (timeout): nothing to answer
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
