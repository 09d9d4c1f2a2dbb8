package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassDataArchiveTest {

    private static final List<String> OPTS = List.of("-XX:+UseSerialGC");

    @Test
    void theFirstLaunchRecordsUnderAPrivateNameAndAGracefulStopPublishesIt(@TempDir Path cache) throws Exception {
        ClassDataArchive first = ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar:b.jar", OPTS);
        assertThat(first.reused()).isFalse();
        assertThat(first.jvmOption()).startsWith("-XX:ArchiveClassesAtExit=" + cache).endsWith(".tmp");
        // What the child JVM would write at exit:
        Files.writeString(Path.of(first.jvmOption().substring(first.jvmOption().indexOf('=') + 1)), "archive");
        first.afterStop(true);
        assertThat(first.archive()).hasContent("archive");

        ClassDataArchive second = ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar:b.jar", OPTS);
        assertThat(second.reused()).isTrue();
        assertThat(second.jvmOption()).isEqualTo("-XX:SharedArchiveFile=" + first.archive());
    }

    @Test
    void aRecordingFromAKilledChildIsDiscarded(@TempDir Path cache) throws Exception {
        ClassDataArchive launch = ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar", OPTS);
        Path pending = Path.of(launch.jvmOption().substring(launch.jvmOption().indexOf('=') + 1));
        Files.writeString(pending, "half an archi");
        launch.afterStop(false);
        assertThat(pending).doesNotExist();
        assertThat(launch.archive()).doesNotExist();
    }

    @Test
    void anotherClassPathJvmOrGcGetsAnotherArchive(@TempDir Path cache) {
        Path base = ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar", OPTS).archive();
        assertThat(ClassDataArchive.forLaunch(cache, "/usr/bin/java", "b.jar", OPTS).archive()).isNotEqualTo(base);
        assertThat(ClassDataArchive.forLaunch(cache, "/opt/jdk/bin/java", "a.jar", OPTS).archive()).isNotEqualTo(base);
        assertThat(ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar", List.of("-XX:+UseG1GC")).archive())
                .isNotEqualTo(base);
        assertThat(ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar", OPTS).archive()).isEqualTo(base);
    }

    @Test
    void staleRecordingsOfKilledParentsAreCleanedUp(@TempDir Path cache) throws Exception {
        Path stale = Files.writeString(cache.resolve("registry-cds-0123456789abcdef.x.tmp"), "old");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        Path fresh = Files.writeString(cache.resolve("registry-cds-0123456789abcdef.y.tmp"), "new");
        ClassDataArchive.forLaunch(cache, "/usr/bin/java", "a.jar", OPTS);
        assertThat(stale).doesNotExist();
        assertThat(fresh).exists();
        try (Stream<Path> files = Files.list(cache)) {
            assertThat(files).hasSize(1);
        }
    }
}
