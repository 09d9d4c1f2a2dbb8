package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker's default id is the same after a restart, and differs between workers running side by side. */
class WorkerSlotTest {

    @Test
    void aRestartedWorkerGetsItsPredecessorsIdAndAConcurrentOneAnother(@TempDir Path dir) {
        WorkerSlot first = WorkerSlot.claim(dir, "host-a");
        WorkerSlot second = WorkerSlot.claim(dir, "host-a");
        assertThat(first.id()).isEqualTo("host-a-w0");
        assertThat(second.id()).isEqualTo("host-a-w1");

        first.close();  // the first worker dies: the operating system drops its lock
        try (WorkerSlot restarted = WorkerSlot.claim(dir, "host-a")) {
            assertThat(restarted.id()).isEqualTo(first.id());
        }
        second.close();
    }

    @Test
    void theDefaultIdIsStableAndNotTheProcessId(@TempDir Path dir) {
        Map<String, Object> settings = Map.of(WorkerConfig.POLICY_NAME, "chat", WorkerConfig.WORKER_ID_DIR,
                dir.toString());
        String id = new WorkerConfig(settings).workerId();

        assertThat(id).matches(".+-w\\d+").doesNotEndWith("-" + ProcessHandle.current().pid());
        assertThat(new WorkerConfig(settings).workerId()).isEqualTo(id);
        assertThat(new WorkerConfig(settings).transactionalId()).isEqualTo("rlhf-worker-chat-" + id);
    }
}
