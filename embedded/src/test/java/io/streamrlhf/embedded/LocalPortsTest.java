package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

class LocalPortsTest {

    @Test
    void zeroPicksAFreePortThatCanBeBound() throws Exception {
        int port = LocalPorts.choose(0, "test");
        assertThat(port).isBetween(1, 65_535);
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("localhost", port));
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void aFreeRequestedPortIsReturnedAsIs() {
        int port = LocalPorts.freePort();
        assertThat(LocalPorts.choose(port, "test")).isEqualTo(port);
    }

    @Test
    void aBusyRequestedPortIsRejectedWithItsNumberAndPurpose() throws Exception {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("localhost", 0));
            int port = socket.getLocalPort();
            assertThat(LocalPorts.isFree(port)).isFalse();
            assertThatThrownBy(() -> LocalPorts.choose(port, "Kafka listener"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("Kafka listener port " + port + " is already in use");
        }
    }

    @Test
    void portsOutsideTheValidRangeAreRejected() {
        assertThatThrownBy(() -> LocalPorts.choose(-1, "Schema registry"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got -1");
        assertThatThrownBy(() -> LocalPorts.choose(70_000, "Schema registry"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 70000");
    }
}
