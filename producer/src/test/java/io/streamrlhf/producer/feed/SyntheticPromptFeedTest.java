package io.streamrlhf.producer.feed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.Prompt;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyntheticPromptFeedTest {

    private static List<String> texts(List<Prompt> prompts) {
        return prompts.stream().map(p -> p.getPromptId() + " " + p.getConversation().get(0).getContent()).toList();
    }

    @Test
    void aResumedFeedSendsWhatAnUninterruptedOneWouldAfterTheLastIdSent() {
        List<Prompt> uninterrupted = new SyntheticPromptFeed(7, 4).next(10);
        List<Prompt> first = new SyntheticPromptFeed(7, 4).next(6);
        long last = SyntheticPromptFeed.lastIndex(first.stream().map(Prompt::getPromptId).toList(), 7);
        assertThat(last).isEqualTo(5);
        List<Prompt> resumed = new SyntheticPromptFeed(7, 4).resumeAfter(last).next(4);
        assertThat(resumed.get(0).getPromptId()).isEqualTo("synthetic-7-6");
        assertThat(texts(resumed)).isEqualTo(texts(uninterrupted.subList(6, 10)));
    }

    @Test
    void lastIndexCountsOnlyThisSeedsIds() {
        assertThat(SyntheticPromptFeed.lastIndex(List.of("synthetic-7-3", "synthetic-70-99", "synthetic-7-12",
                "file-1", "synthetic-7-x"), 7)).isEqualTo(12);
        assertThat(SyntheticPromptFeed.lastIndex(List.of("synthetic-8-3"), 7)).isEqualTo(-1);
        assertThat(new SyntheticPromptFeed(7, 1).resumeAfter(-1).next(1).get(0).getPromptId())
                .isEqualTo("synthetic-7-0");
    }

    @Test
    void aFeedCannotResumeBehindWhatItSent() {
        SyntheticPromptFeed feed = new SyntheticPromptFeed(7, 1);
        feed.next(5);
        assertThatThrownBy(() -> feed.resumeAfter(2)).hasMessageContaining("index 4 was sent already");
    }
}
