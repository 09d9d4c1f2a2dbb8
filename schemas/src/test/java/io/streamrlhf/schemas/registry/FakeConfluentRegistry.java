package io.streamrlhf.schemas.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A scripted HTTP server answering like a Confluent registry, to test what the REST client sends and how it
 * reads answers. Each route ({@code "METHOD path"}, path with query) has a canned status and body; every request
 * is recorded.
 */
final class FakeConfluentRegistry implements AutoCloseable {
    /** One request as received. */
    record Received(String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
    }

    private record Answer(int status, String body, long delayMs) {
    }

    private final HttpServer server;
    private final Map<String, Answer> routes = new ConcurrentHashMap<>();
    final List<Received> received = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();

    private FakeConfluentRegistry(HttpServer server) {
        this.server = server;
        server.createContext("/", this::handle);
        server.start();
    }

    static FakeConfluentRegistry http() throws IOException {
        return new FakeConfluentRegistry(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0));
    }

    static FakeConfluentRegistry https(SSLContext context) throws IOException {
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(context));
        return new FakeConfluentRegistry(server);
    }

    FakeConfluentRegistry on(String method, String pathAndQuery, int status, String body) {
        routes.put(method + " " + pathAndQuery, new Answer(status, body, 0));
        return this;
    }

    FakeConfluentRegistry slow(String method, String pathAndQuery, long delayMs) {
        routes.put(method + " " + pathAndQuery, new Answer(200, "{}", delayMs));
        return this;
    }

    String url(String scheme) {
        return scheme + "://localhost:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        String pathAndQuery = exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        received.add(new Received(exchange.getRequestMethod(), pathAndQuery, Map.copyOf(exchange.getRequestHeaders()),
                body));
        Answer answer = routes.getOrDefault(exchange.getRequestMethod() + " " + pathAndQuery,
                new Answer(404, "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}", 0));
        if (answer.delayMs() > 0) {
            try {
                Thread.sleep(answer.delayMs());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/vnd.schemaregistry.v1+json");
        try {
            exchange.sendResponseHeaders(answer.status(), bytes.length);
            exchange.getResponseBody().write(bytes);
        } catch (IOException e) {
            // the client gave up (timeout test); nothing to answer
        } finally {
            exchange.close();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
