package io.streamrlhf.loop.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScaleRequestTest {

    @TempDir Path dir;

    private void runningStack(long pid) {
        new StackState(pid, "running", 0, 0, dir.toString(), "kafka:9092", "http://r", "rlhf.", "policy", List.of(),
                null, null)
                .write(dir);
    }

    @Test
    void aRequestIsSeenByTheStackAndItsAnswerReturned() throws Exception {
        runningStack(ProcessHandle.current().pid());
        CompletableFuture<ScaleRequest.Answer> submitted = CompletableFuture.supplyAsync(() -> {
            try {
                return ScaleRequest.submit(dir, ScaleRequest.Action.ADD, "scorer", Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        List<ScaleRequest> pending = List.of();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (pending.isEmpty() && System.nanoTime() < deadline) {
            pending = ScaleRequest.pending(dir);
            Thread.sleep(20);
        }
        assertThat(pending).hasSize(1);
        ScaleRequest r = pending.get(0);
        assertThat(r.action()).isEqualTo(ScaleRequest.Action.ADD);
        assertThat(ScaleRequest.kind(r.target())).isEqualTo(ProcessKind.SCORER);
        r.answer(dir, new ScaleRequest.Answer(true, "score-2", 4242, "started score-2"));

        ScaleRequest.Answer answer = submitted.get(20, TimeUnit.SECONDS);
        assertThat(answer).isEqualTo(new ScaleRequest.Answer(true, "score-2", 4242, "started score-2"));
        assertThat(ScaleRequest.pending(dir)).as("answered requests are gone").isEmpty();
        try (var files = Files.list(ScaleRequest.directory(dir))) {
            assertThat(files.toList()).as("request and answer files removed").isEmpty();
        }
    }

    @Test
    void requestsAreAnsweredOldestFirstAndMalformedOnesRefused() throws Exception {
        Path requests = Files.createDirectories(ScaleRequest.directory(dir));
        Files.writeString(requests.resolve("000000000000002-b.request"), "remove worker-1\n");
        Files.writeString(requests.resolve("000000000000001-a.request"), "add worker\n");
        Files.writeString(requests.resolve("000000000000003-c.request"), "scale everything\n");
        assertThat(ScaleRequest.pending(dir)).containsExactly(
                new ScaleRequest("000000000000001-a", ScaleRequest.Action.ADD, "worker"),
                new ScaleRequest("000000000000002-b", ScaleRequest.Action.REMOVE, "worker-1"));
        assertThat(Files.readString(requests.resolve("000000000000003-c.answer")))
                .contains("\"ok\":false", "is not 'add KIND' or 'remove NAME'");
    }

    @Test
    void onlyWorkersAndScorersAreAddedAndAStackThatIsGoneIsNamed() {
        assertThatThrownBy(() -> ScaleRequest.kind("learner"))
                .hasMessageContaining("cannot add a 'learner' to a running stack: the kinds are worker and scorer");
        assertThat(ScaleRequest.kind("score")).isEqualTo(ProcessKind.SCORER);
        runningStack(Long.MAX_VALUE - 1);  // no such pid
        assertThatThrownBy(() -> ScaleRequest.submit(dir, ScaleRequest.Action.REMOVE, "worker-1",
                Duration.ofSeconds(5))).hasMessageContaining("does not run");
        assertThat(ScaleRequest.pending(dir)).as("the request was withdrawn").isEmpty();
    }
}
