package io.streamrlhf.producer.feedback;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reads request bodies of the JDK's HTTP server within a read timeout. The server reads a body on the request thread
 * from a blocking socket channel, which an interrupt closes: a watchdog interrupts a read that takes too long, so a
 * slow sender loses its connection instead of holding a request thread. The JDK server has no read timeout of its
 * own, hence this class.
 */
final class TimedBodyReader implements AutoCloseable {

    private final Duration timeout;
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "feedback-read-timeouts");
        t.setDaemon(true);
        return t;
    });

    TimedBodyReader(Duration timeout) {
        this.timeout = timeout;
    }

    /**
     * Reads the body, up to one byte over {@code maxBytes} (so that a caller sees it was too long).
     *
     * @return the bytes read, or empty when the body did not arrive within the timeout (the connection is closed)
     */
    Optional<byte[]> read(HttpExchange exchange, int maxBytes) throws IOException {
        byte[][] body = new byte[1][];
        if (!withinTimeout(exchange, in -> body[0] = in.readNBytes(maxBytes + 1))) {
            return Optional.empty();
        }
        return Optional.of(body[0]);
    }

    /**
     * Reads and drops what is left of the body, up to {@code maxBytes}, within the timeout.
     *
     * @return whether the body is now all read (so the connection can carry another request)
     */
    boolean drain(HttpExchange exchange, long maxBytes) {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        try {
            if (length != null && Long.parseLong(length.trim()) > maxBytes) {
                return false;
            }
        } catch (NumberFormatException e) {
            return false;
        }
        boolean[] all = new boolean[1];
        try {
            withinTimeout(exchange, in -> {
                byte[] skip = new byte[8192];
                long dropped = 0;
                int n = 0;
                while (dropped <= maxBytes && (n = in.read(skip)) != -1) {
                    dropped += n;
                }
                all[0] = n == -1;
            });
        } catch (IOException e) {
            return false;  // already closed after a complete read, or the client went away: nothing to keep alive
        }
        return all[0];
    }

    @FunctionalInterface
    private interface BodyRead {
        void read(InputStream body) throws IOException;
    }

    /** Runs {@code read} on the request body; true when it finished, false when the watchdog cut it off. */
    private boolean withinTimeout(HttpExchange exchange, BodyRead read) throws IOException {
        Thread reader = Thread.currentThread();
        Object lock = new Object();
        boolean[] state = new boolean[2];  // [0] done reading, [1] timed out
        ScheduledFuture<?> alarm = watchdog.schedule(() -> {
            synchronized (lock) {
                if (!state[0]) {
                    state[1] = true;
                    reader.interrupt();
                }
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        try {
            read.read(exchange.getRequestBody());
            return true;
        } catch (IOException e) {
            synchronized (lock) {
                if (!state[1]) {
                    throw e;
                }
            }
            return false;
        } finally {
            synchronized (lock) {
                state[0] = true;
            }
            alarm.cancel(false);
            Thread.interrupted();  // a timeout's interrupt is spent; the thread goes back to the pool clean
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }
}
