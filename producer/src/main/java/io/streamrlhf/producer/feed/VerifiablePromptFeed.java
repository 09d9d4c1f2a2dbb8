package io.streamrlhf.producer.feed;

import io.streamrlhf.models.world.SentimentTask;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The synthetic world's verifiable prompts ({@link SentimentTask}): each carries its reference answer and the
 * verifier that checks a response against it, so the reward stream's {@code verify:prompt} source scores it with no
 * reward model. Ids are {@code verifiable-<seed>-<n>}; the category is the task's.
 */
public final class VerifiablePromptFeed {

    private final SentimentTask task;
    private final long seed;
    private final int samplesPerPrompt;
    private long next;

    /**
     * @param seed             seeds the items (and names the ids)
     * @param samplesPerPrompt samples each prompt asks for (the GRPO group)
     */
    public VerifiablePromptFeed(long seed, int samplesPerPrompt) {
        this.task = SentimentTask.standard(seed);
        this.seed = seed;
        this.samplesPerPrompt = samplesPerPrompt;
    }

    /** The next {@code n} prompts. */
    public List<Prompt> next(int n) {
        List<Prompt> out = new ArrayList<>(n);
        for (SentimentTask.Item item : task.next(n)) {
            out.add(Prompt.newBuilder().setPromptId("verifiable-" + seed + "-" + next++)
                    .setConversation(List.of(new ConversationTurn(Role.USER, item.prompt().text())))
                    .setCategory(SentimentTask.CATEGORY).setSamplesPerPrompt(samplesPerPrompt)
                    .setSource("synthetic").setMetadata(Map.of("task", SentimentTask.CATEGORY))
                    .setReferenceAnswers(List.of(item.answer())).setVerifier(SentimentTask.VERIFIER)
                    .setCreatedAt(Instant.now()).build());
        }
        return out;
    }
}
