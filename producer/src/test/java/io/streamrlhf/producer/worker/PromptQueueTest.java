package io.streamrlhf.producer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PromptQueueTest {
    private static final TopicPartition P0 = new TopicPartition("prompts", 0);
    private static final TopicPartition P1 = new TopicPartition("prompts", 1);

    static PolledPrompt polled(TopicPartition tp, long offset, int samples) {
        Prompt prompt = Prompt.newBuilder().setPromptId(tp.partition() + "-" + offset)
                .setConversation(List.of(new ConversationTurn(Role.USER, "hello"))).setSamplesPerPrompt(samples)
                .setCreatedAt(Instant.EPOCH).build();
        return new PolledPrompt(tp, offset, null, new byte[0], prompt, null);
    }

    @Test
    void takesPromptsInArrivalOrderUpToTheRowLimitButAlwaysOne() {
        PromptQueue queue = new PromptQueue();
        queue.add(polled(P0, 0, 3), 0);
        queue.add(polled(P1, 0, 3), 0);
        queue.add(polled(P0, 1, 8), 0);
        queue.add(polled(P0, 2, 1), 0);
        assertThat(queue.rows()).isEqualTo(15);

        assertThat(queue.takeBatch(7)).extracting(PolledPrompt::offset, p -> p.partition().partition())
                .containsExactly(tuple(0L, 0), tuple(0L, 1));
        assertThat(queue.takeBatch(7)).extracting(PolledPrompt::offset).containsExactly(1L);  // 8 rows, alone
        assertThat(queue.takeBatch(7)).extracting(PolledPrompt::offset).containsExactly(2L);
        assertThat(queue.isEmpty()).isTrue();
    }

    @Test
    void aBatchIsDueWhenItsRowsFillItOrItsClockRanOut() {
        PromptQueue queue = new PromptQueue();
        assertThat(queue.batchDue(4, 100, 1_000)).isFalse();
        queue.add(polled(P0, 0, 2), 1_000);
        queue.add(polled(P0, 1, 1), 1_050);  // the clock runs from the first arrival
        assertThat(queue.firstArrivedAt()).isEqualTo(1_000);
        assertThat(queue.batchDue(4, 100, 1_099)).isFalse();
        assertThat(queue.batchDue(4, 100, 1_100)).isTrue();
        assertThat(queue.batchDue(3, 100, 1_001)).isTrue();
        queue.restartClock(2_000);
        assertThat(queue.batchDue(4, 100, 2_050)).isFalse();
    }

    @Test
    void dropsRevokedPartitionsAndDrainsTheFirstOffsetOfEachPartition() {
        PromptQueue queue = new PromptQueue();
        queue.add(polled(P0, 5, 1), 0);
        queue.add(polled(P1, 7, 1), 0);
        queue.add(polled(P0, 6, 1), 0);
        queue.add(polled(P1, 8, 1), 0);
        queue.dropPartitions(Set.of(P1));
        assertThat(queue.rows()).isEqualTo(2);

        Map<TopicPartition, Long> first = new HashMap<>(Map.of(P0, 9L, P1, 3L));
        queue.drainOffsetsInto(first);
        assertThat(first).containsExactlyInAnyOrderEntriesOf(Map.of(P0, 5L, P1, 3L));
        assertThat(queue.isEmpty()).isTrue();
    }
}
