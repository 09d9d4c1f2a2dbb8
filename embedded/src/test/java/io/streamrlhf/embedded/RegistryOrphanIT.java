package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * A JVM that starts a registry and is then killed outright (no shutdown hooks run) must not leave
 * the registry behind: the child notices its parent is gone and stops.
 */
class RegistryOrphanIT {

    @Test
    void registryStopsWhenItsParentIsKilled() throws Exception {
        Process holder = new ProcessBuilder(EmbeddedRegistry.javaExecutable(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), RegistryHolder.class.getName())
                .redirectErrorStream(true).start();
        long registryPid;
        int port;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                StandardCharsets.UTF_8))) {
            Pattern ready = Pattern.compile("REGISTRY pid=(\\d+) port=(\\d+)");
            StringBuilder seen = new StringBuilder();
            Matcher match = null;
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                Matcher m = ready.matcher(line);
                if (m.find()) {
                    match = m;
                    break;
                }
            }
            assertThat(match).as("holder output:\n%s", seen).isNotNull();
            registryPid = Long.parseLong(match.group(1));
            port = Integer.parseInt(match.group(2));
        }
        Optional<ProcessHandle> registry = ProcessHandle.of(registryPid);
        assertThat(registry).isPresent();
        assertThat(registry.get().isAlive()).isTrue();

        holder.destroyForcibly(); // SIGKILL: the holder's shutdown hook does not run
        assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();

        try {
            registry.get().onExit().get(30, TimeUnit.SECONDS);
        } finally {
            registry.get().destroyForcibly(); // never leave it behind, even when the assertion fails
        }
        assertThat(registry.get().isAlive()).isFalse();
        assertThat(LocalPorts.isFree(port)).isTrue();
    }

    /** Starts a registry, prints its pid and port, and waits to be killed. */
    public static final class RegistryHolder {
        private RegistryHolder() {
        }

        public static void main(String[] args) throws Exception {
            EmbeddedRegistry registry = EmbeddedRegistry.builder().start();
            System.out.println("REGISTRY pid=" + registry.process().pid() + " port=" + registry.port());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
