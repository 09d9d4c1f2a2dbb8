package io.streamrlhf.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Loopback port choices for the embedded servers: a free port when the caller asked for 0, and a
 * check that a requested port can be bound, so "port in use" is reported by name before a server
 * fails half-way through its start.
 */
public final class LocalPorts {

    private LocalPorts() {
    }

    /**
     * Returns {@code requested} when it is positive (after checking it is free), otherwise a port the
     * operating system just handed out.
     *
     * @param requested a port, or 0 for any free port
     * @param what      what the port is for, named in the error ("Kafka listener")
     * @return a port that could be bound on loopback a moment ago
     * @throws IllegalArgumentException when the port is outside 0..65535
     * @throws IllegalStateException    when a requested port is already in use
     */
    public static int choose(int requested, String what) {
        if (requested < 0 || requested > 65_535) {
            throw new IllegalArgumentException(what + " port must be 0 (any free port) or 1..65535, got " + requested);
        }
        if (requested == 0) {
            return freePort();
        }
        if (!isFree(requested)) {
            throw new IllegalStateException(what + " port " + requested + " is already in use on localhost; "
                    + "stop whatever holds it or pass 0 to pick a free port");
        }
        return requested;
    }

    /** A port that was free on the loopback interface when this method returned. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            // No SO_REUSEADDR: the port is released as soon as the socket closes, for the server to take.
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("could not obtain a free local port", e);
        }
    }

    /**
     * Whether a server could bind {@code port} on every interface right now (the embedded servers
     * bind localhost, but a wildcard holder blocks them too).
     */
    public static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
