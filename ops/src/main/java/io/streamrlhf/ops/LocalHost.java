package io.streamrlhf.ops;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** This machine's name, as stable ids made from it (a worker's, a scorer's group instance id) need it. */
public final class LocalHost {

    private LocalHost() {
    }

    /**
     * The host name Java resolves for this machine; where it cannot (no entry for it in the resolver), the
     * {@code HOSTNAME} environment variable, else {@code localhost}.
     */
    public static String name() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            return env == null || env.isBlank() ? "localhost" : env;
        }
    }
}
