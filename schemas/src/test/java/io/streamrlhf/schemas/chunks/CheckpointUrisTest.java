package io.streamrlhf.schemas.chunks;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckpointUrisTest {

    private final CheckpointUris uris = CheckpointUris.from("rlhf.checkpoints",
            Map.of(CheckpointUris.ALLOWED_ROOTS, "/shared/ckpt, /data/rm"));

    @Test
    void chunksOnTheConfiguredTopicAndDirectoriesUnderARootAreAllowed() {
        assertThatCode(() -> uris.check("kafka:rlhf.checkpoints/chat/7")).doesNotThrowAnyException();
        assertThatCode(() -> uris.check("kafka:rlhf.checkpoints/rm/rm-0/3")).doesNotThrowAnyException();
        assertThatCode(() -> uris.check("file:/shared/ckpt/chat/v7/")).doesNotThrowAnyException();
        assertThatCode(() -> uris.check("/data/rm/rm-0/v2")).doesNotThrowAnyException();
    }

    @Test
    void dotDotSegmentsAreRefusedInEveryForm() {
        for (String uri : List.of("file:/shared/ckpt/../../etc/", "/shared/ckpt/chat/../../../root",
                "file:/shared/ckpt/%2e%2e/%2E%2E/etc", "kafka:rlhf.checkpoints/../chat/7",
                "file:/shared/ckpt/..\\..\\x")) {
            assertThatThrownBy(() -> uris.check(uri)).as(uri).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'..' segment").hasMessageContaining(uri);
        }
        // A name merely containing dots is no climb.
        assertThatCode(() -> uris.check("file:/shared/ckpt/chat..v7/")).doesNotThrowAnyException();
    }

    @Test
    void aForeignTopicIsRefusedNamingBothTopics() {
        assertThatThrownBy(() -> uris.check("kafka:attacker.chunks/chat/7"))
                .hasMessageContaining("'attacker.chunks'").hasMessageContaining("'rlhf.checkpoints'");
    }

    @Test
    void directoriesOutsideTheRootsAndOtherSchemesAreRefused() {
        assertThatThrownBy(() -> uris.check("file:/tmp/evil/")).hasMessageContaining("outside the allowed roots")
                .hasMessageContaining(CheckpointUris.ALLOWED_ROOTS);
        assertThatThrownBy(() -> uris.check("/shared/ckpt-other/x")).hasMessageContaining("outside the allowed roots");
        assertThatThrownBy(() -> uris.check("http://evil/x")).hasMessageContaining("unsupported URI scheme 'http'");
    }

    @Test
    void withoutRootsAnyDirectoryIsAllowedButStillNoDotDot() {
        CheckpointUris open = new CheckpointUris("rlhf.checkpoints", List.of());
        assertThatCode(() -> open.check("file:/tmp/x/")).doesNotThrowAnyException();
        assertThatThrownBy(() -> open.check("file:/tmp/x/../y")).hasMessageContaining("'..'");
        assertThatCode(() -> new CheckpointUris(null, List.of(Path.of("/a"))).check("kafka:any/chat/1"))
                .doesNotThrowAnyException();
    }
}
