package io.streamrlhf.producer.feed;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.world.SentimentTask;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerifiablePromptFeedTest {

    @Test
    void promptsCarryTheTasksReferenceAnswerAndVerifierWithFreshIds() {
        List<Prompt> prompts = new VerifiablePromptFeed(4, 8).next(20);
        List<SentimentTask.Item> items = SentimentTask.standard(4).next(20);
        for (int i = 0; i < prompts.size(); i++) {
            Prompt p = prompts.get(i);
            assertThat(p.getPromptId()).isEqualTo("verifiable-4-" + i);
            assertThat(p.getConversation()).hasSize(1);
            assertThat(p.getConversation().get(0).getContent()).isEqualTo(items.get(i).prompt().text());
            assertThat(p.getReferenceAnswers()).containsExactly(items.get(i).answer());
            assertThat(VerifierSpec.parse(p.getVerifier()).kind()).isEqualTo("normalised");
            assertThat(p.getSamplesPerPrompt()).isEqualTo(8);
            assertThat(p.getCategory()).isEqualTo(SentimentTask.CATEGORY);
        }
    }
}
