package io.streamrlhf.rewardstream.scoring.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local reward server on the loopback interface that scores a response by its length in characters, and can be
 * told to misbehave: answer the next requests with an HTTP error (with a Retry-After), answer slowly, or answer
 * with a body of the wrong shape.
 */
final class RewardServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    final List<Long> arrivals = new CopyOnWriteArrayList<>();
    final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    /** How many of the next requests get {@link #failStatus}. */
    final AtomicInteger failNext = new AtomicInteger();
    volatile int failStatus = 503;
    volatile String retryAfter;
    volatile long delayMillis;
    volatile boolean malformed;

    RewardServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/score", this::handle);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/score";
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            requests.incrementAndGet();
            arrivals.add(System.nanoTime());
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            bodies.add(body);
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                if (retryAfter != null) {
                    exchange.getResponseHeaders().add("Retry-After", retryAfter);
                }
                send(exchange, failStatus, "{\"error\": \"told to fail\"}");
                return;
            }
            JsonNode items = body.path("items");
            batchSizes.add(items.size());
            ObjectNode reply = JSON.createObjectNode();
            ArrayNode scores = reply.putArray("scores");
            for (JsonNode item : items) {
                String response = item.path("response").asText();
                if (response.equals("unscorable")) {
                    scores.addNull();
                } else {
                    scores.add(response.length());
                }
            }
            if (malformed) {
                scores.add(0);
            }
            send(exchange, 200, JSON.writeValueAsString(reply));
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
