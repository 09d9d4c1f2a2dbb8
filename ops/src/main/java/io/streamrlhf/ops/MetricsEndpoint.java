package io.streamrlhf.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's operations endpoint over the JDK's HTTP server: {@code GET /metrics} (Prometheus text format,
 * version 0.0.4), {@code GET /health/live} and {@code GET /health/ready} (200 with one line per check when they
 * pass, 503 when one fails). The JDK server is enough for a scrape every few seconds and brings no dependency.
 */
public final class MetricsEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);
    /** The content type of the Prometheus text format the endpoint serves. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;
    private final String host;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, String host) {
        this.server = server;
        this.executor = executor;
        this.host = host;
    }

    /**
     * Serves {@code meters} and {@code health} on {@code bindAddress:port}.
     *
     * @param bindAddress address to listen on ({@code 0.0.0.0}: every interface)
     * @param port        TCP port; 0 picks a free one ({@link #port()} says which)
     * @throws UncheckedIOException naming the address when it cannot be bound
     */
    public static MetricsEndpoint start(String bindAddress, int port, ServiceMeters meters, HealthChecks health) {
        return start(bindAddress, port, meters::scrape, health);
    }

    static MetricsEndpoint start(String bindAddress, int port, Supplier<String> scrape, HealthChecks health) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--metrics-port " + port + " is not a TCP port (0 to 65535)");
        }
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(bindAddress, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + bindAddress + ":" + port + ": "
                    + e.getMessage(), e);
        }
        server.createContext("/metrics", ex -> respond(ex, 200, CONTENT_TYPE, scrape.get()));
        server.createContext("/health/live", ex -> health(ex, health.live()));
        server.createContext("/health/ready", ex -> health(ex, health.ready()));
        server.createContext("/", ex -> respond(ex, 404, "text/plain; charset=utf-8",
                "not found: " + ex.getRequestURI().getPath() + " (try /metrics, /health/live, /health/ready)\n"));
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "metrics-endpoint");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.start();
        String host = bindAddress.equals("0.0.0.0") || bindAddress.equals("::") ? localHostName() : bindAddress;
        MetricsEndpoint endpoint = new MetricsEndpoint(server, executor, host);
        LOG.info("serving metrics at {}", endpoint.metricsUrl());
        return endpoint;
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://HOST:PORT/metrics}, with this machine's name when bound to every interface. */
    public URI metricsUrl() {
        return URI.create("http://" + host + ":" + port() + "/metrics");
    }

    /** {@code http://HOST:PORT} (the health paths hang off it). */
    public URI baseUrl() {
        return URI.create("http://" + host + ":" + port());
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private static void health(HttpExchange ex, HealthChecks.Report report) throws IOException {
        respond(ex, report.ok() ? 200 : 503, "text/plain; charset=utf-8", report.text());
    }

    private static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", contentType);
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(status, -1);
                return;
            }
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        } catch (RuntimeException e) {
            LOG.warn("{} {} failed: {}", ex.getRequestMethod(), ex.getRequestURI(), e.toString());
            throw e;
        }
    }

    private static String localHostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }
}
