package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * A JVM that starts a registry and is then killed outright (no shutdown hooks run) must not leave
 * the registry behind: the child notices its parent is gone and stops, and the next start removes
 * the dead JVM's temporary work directory.
 */
class RegistryOrphanIT {

    @Test
    void registryStopsWhenItsParentIsKilled() throws Exception {
        Process holder = new ProcessBuilder(EmbeddedRegistry.javaExecutable(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), RegistryHolder.class.getName())
                .redirectErrorStream(true).start();
        long registryPid;
        int port;
        Path workDir;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(),
                StandardCharsets.UTF_8))) {
            Pattern ready = Pattern.compile("REGISTRY pid=(\\d+) port=(\\d+) dir=(\\S+)");
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
            workDir = Path.of(match.group(3));
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

        // Nobody deleted the killed JVM's temporary work dir; the next start sweeps it.
        assertThat(workDir).isDirectory();
        DataDirs.sweepOrphans(workDir.getParent(), "rlhf-registry-");
        assertThat(workDir).doesNotExist();
    }

    /** Starts a registry, prints its pid and port, and waits to be killed. */
    public static final class RegistryHolder {
        private RegistryHolder() {
        }

        public static void main(String[] args) throws Exception {
            EmbeddedRegistry registry = EmbeddedRegistry.builder().start();
            System.out.println("REGISTRY pid=" + registry.process().pid() + " port=" + registry.port()
                    + " dir=" + registry.logFile().getParent());
            System.out.flush();
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
