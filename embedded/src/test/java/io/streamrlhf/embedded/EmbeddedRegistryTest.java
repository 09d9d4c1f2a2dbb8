package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry child's command line and settings, without launching it. */
class EmbeddedRegistryTest {

    @TempDir
    Path tmp;

    @Test
    void theChildRunsOurJavaThroughTheLauncherWithASmallHeapOnTheGivenPort() throws Exception {
        RegistryDistribution dist = distribution();
        EmbeddedRegistry.Launch launch = EmbeddedRegistry.builder().cacheDir(tmp.resolve("cache")).maxHeap("256m")
                .command(dist, 18081, tmp);
        List<String> cmd = launch.command();
        assertThat(cmd.get(0)).isEqualTo(EmbeddedRegistry.javaExecutable());
        assertThat(Path.of(cmd.get(0))).isExecutable();
        assertThat(cmd).contains("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dquarkus.http.port=18081", "-Dquarkus.http.host=localhost", "-Dquarkus.oidc.tenant-enabled=false",
                "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2", RegistryLauncher.class.getName(),
                String.valueOf(ProcessHandle.current().pid()), "fake.Main");
        // In memory by default: no file database.
        assertThat(cmd).noneMatch(a -> a.startsWith("-Dapicurio.datasource.url="));
        String classPath = cmd.get(cmd.indexOf("-cp") + 1);
        assertThat(classPath).endsWith(dist.runnerJar().toString());
        Path launcherJar = Path.of(classPath.split(java.io.File.pathSeparator)[0]);
        assertThat(launcherJar).isRegularFile().hasParent(tmp.resolve("cache"));
        assertThat(launch.classData()).isNotNull();
        assertThat(cmd).contains(launch.classData().jvmOption());
    }

    @Test
    void aStorageDirectoryMeansAnH2FileDatabaseThere() throws Exception {
        Path storage = Files.createDirectories(tmp.resolve("registry"));
        List<String> cmd = EmbeddedRegistry.builder().cacheDir(tmp.resolve("cache")).storageDir(storage)
                .command(distribution(), 1, storage).command();
        assertThat(cmd).contains("-Dapicurio.datasource.url=jdbc:h2:file:" + storage.resolve("registry-db"));
    }

    @Test
    void classDataSharingCanBeSwitchedOff() throws Exception {
        EmbeddedRegistry.Launch launch = EmbeddedRegistry.builder().cacheDir(tmp.resolve("cache"))
                .classDataSharing(false).command(distribution(), 1, tmp);
        assertThat(launch.classData()).isNull();
        assertThat(launch.command()).noneMatch(a -> a.contains("SharedArchiveFile") || a.contains("ArchiveClassesAtExit"));
    }

    @Test
    void callerPropertiesOverrideDefaultsButNotThePort() {
        EmbeddedRegistry.Builder builder = EmbeddedRegistry.builder().property("quarkus.log.level", "INFO");
        Map<String, String> props = builder.registryProperties(1234, tmp);
        assertThat(props).containsEntry("quarkus.log.level", "INFO").containsEntry("quarkus.http.port", "1234");
        assertThatThrownBy(() -> builder.property("quarkus.http.port", "80"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port(int)");
    }

    @Test
    void badHeapAndTimeoutSettingsAreRejected() {
        assertThatThrownBy(() -> EmbeddedRegistry.builder().maxHeap("lots")).hasMessageContaining("384m");
        assertThatThrownBy(() -> EmbeddedRegistry.builder().startTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theLogTailKeepsTheLastLines() throws Exception {
        Path log = tmp.resolve("registry.log");
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 100; i++) {
            text.append("line ").append(i).append('\n');
        }
        Files.writeString(log, text);
        String tail = EmbeddedRegistry.tail(log);
        assertThat(tail.lines()).hasSize(40).first().isEqualTo("line 61");
        assertThat(tail).endsWith("line 100");
        assertThat(EmbeddedRegistry.tail(tmp.resolve("none.log"))).isEqualTo("(no log file)");
    }

    private RegistryDistribution distribution() throws Exception {
        return RegistryDistribution.fromDirectory(RegistryDistributionTest.fakeDistributionDir(tmp.resolve("dist")),
                "test", false);
    }
}
