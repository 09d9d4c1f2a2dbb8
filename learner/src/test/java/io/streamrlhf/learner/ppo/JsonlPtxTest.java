package io.streamrlhf.learner.ppo;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.HfPolicy;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sft.EncodedCorpus;
import io.streamrlhf.models.sft.JsonlCorpus;
import io.streamrlhf.models.sft.SftEvaluation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JsonlPtx}: batches of a user's corpus with the loss mask exactly on the learned tokens (a response and its
 * EOS, every token after the first of a text), padding masked out, seeded; and in {@link PpoUpdate}, PPO-ptx from it
 * pulls a Hugging Face policy toward the corpus.
 */
class JsonlPtxTest {

    static final String CORPUS = String.join("\n",
            "{\"prompt\": \"hi\", \"response\": \"ok\"}",
            "{\"messages\": [{\"role\": \"system\", \"content\": \"be brief\"}, {\"role\": \"user\", \"content\": "
                    + "\"what is red?\"}, {\"role\": \"assistant\", \"content\": \"a colour.\"}]}",
            "{\"text\": \"the cat sat on the mat.\"}") + "\n";

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        ModelRuntime.init(1);
    }

    private Path qwen2() throws Exception {
        Path dir = TinyHfModels.write(tmp.resolve("qwen2"), TinyHfModels.Architecture.QWEN2, 2);
        return TinyHfModels.writeTokenizer(dir, TinyHfModels.Architecture.QWEN2.config().vocabSize());
    }

    @Test
    void batchesMaskExactlyTheLearnedTokensAndPadTheRest() throws Exception {
        Path data = Files.writeString(tmp.resolve("ptx.jsonl"), CORPUS);
        try (HfTokenizer tokenizer = HfTokenizer.load(TinyHfModels.writeTokenizer(tmp.resolve("tok"), 128))) {
            JsonlPtx ptx = JsonlPtx.load(data, tokenizer, 64, 11L);
            List<EncodedCorpus.Sequence> sequences = ptx.corpus().sequences();
            assertThat(sequences).extracting(EncodedCorpus.Sequence::learnedFrom).as("learned from")
                    .containsExactly(21, tokenizer.encodeChat(
                            JsonlCorpus.read(data).examples().get(1).context(), true).length, 1);

            Set<Integer> seen = new HashSet<>();
            for (int draw = 0; draw < 10; draw++) {
                PtxSource.PtxBatch batch = ptx.next(6, 64);
                int t = batch.length();
                assertThat(batch.rows()).isEqualTo(6);
                assertThat(batch.tokens()).hasSize(6 * t);
                assertThat(batch.attention()).hasSize(6 * t);
                assertThat(batch.lossMask()).hasSize(6 * (t - 1));
                int longest = 0;
                for (int i = 0; i < 6; i++) {
                    int[] row = Arrays.copyOfRange(batch.tokens(), i * t, (i + 1) * t);
                    EncodedCorpus.Sequence s = sequences.stream()
                            .filter(q -> Arrays.equals(q.ids(), Arrays.copyOf(row, q.ids().length)))
                            .findFirst().orElseThrow();
                    seen.add(s.line());
                    int len = s.ids().length;
                    longest = Math.max(longest, len);
                    for (int j = 0; j < t; j++) {
                        assertThat(batch.attention()[i * t + j]).isEqualTo(j < len ? 1f : 0f);
                        if (j >= len) {
                            assertThat(row[j]).isEqualTo(tokenizer.padId());
                        }
                        if (j > 0) {
                            boolean learned = j >= s.learnedFrom() && j < len;
                            assertThat(batch.lossMask()[i * (t - 1) + j - 1]).as("line %d target %d", s.line(), j)
                                    .isEqualTo(learned ? 1f : 0f);
                        }
                    }
                    assertThat(row[len - 1]).as("each row ends with the EOS").isEqualTo(tokenizer.eosId());
                }
                assertThat(t).as("as long as its longest row").isEqualTo(longest);
            }
            assertThat(seen).as("every example is drawn").containsExactlyInAnyOrder(1, 2, 3);

            JsonlPtx same = JsonlPtx.load(data, tokenizer, 64, 11L);
            JsonlPtx again = JsonlPtx.load(data, tokenizer, 64, 11L);
            assertThat(same.next(4, 64).tokens()).as("seeded").isEqualTo(again.next(4, 64).tokens());
        }
    }

    @Test
    void ppoPtxFromTheCorpusPullsAHuggingFacePolicyTowardIt() throws Exception {
        Path dir = qwen2();
        Path data = Files.writeString(tmp.resolve("ptx.jsonl"), CORPUS);
        try (HfPolicy policy = HfPolicy.load(dir, 0); HfPolicy reference = policy.referenceCopy();
             HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            JsonlPtx ptx = JsonlPtx.load(data, tokenizer, policy.config().contextLength(), 3L);
            double before = SftEvaluation.meanLoss(policy, ptx.corpus().sequences(), tokenizer.padId(), 4);
            PpoUpdate ppo = new PpoUpdate(new PpoConfig(Map.of(PpoConfig.PTX_COEF, 5.0, PpoConfig.LEARNING_RATE, 3e-3,
                    PpoConfig.WARMUP_STEPS, 0, PpoConfig.MINIBATCH_SIZE, 4, PpoConfig.EPOCHS, 1,
                    PpoConfig.TARGET_KL, 0.0)), policy, reference, ptx);
            Random random = new Random(5);
            for (int u = 0; u < 8; u++) {
                PpoStats stats = ppo.update(samples(policy, tokenizer, random, u), 0);
                assertThat(stats.get("losses/ptx_loss")).as("update %d", u).isPositive().isFinite();
            }
            double after = SftEvaluation.meanLoss(policy, ptx.corpus().sequences(), tokenizer.padId(), 4);
            assertThat(after).as("corpus loss per learned token, before %.3f", before).isLessThan(0.7 * before);
        }
    }

    /** Four on-policy samples of short prompts with random scores. */
    private static List<RolloutSample> samples(HfPolicy policy, HfTokenizer tokenizer, Random random, int update) {
        int[][] prompts = new int[4][];
        for (int i = 0; i < prompts.length; i++) {
            prompts[i] = tokenizer.encode("q" + (char) ('a' + random.nextInt(26)));
        }
        SampleResult r = PolicyLoader.sampler(policy).sample(prompts,
                SamplingParams.of(6, tokenizer.eosId(), tokenizer.padId(), update), tokenizer.stopIds());
        List<RolloutSample> out = new ArrayList<>();
        for (int i = 0; i < r.batchSize(); i++) {
            out.add(new RolloutSample("g" + update + "-" + i, "p" + update + "-" + i, 1, 0, prompts[i],
                    r.tokens()[i], r.logProbs()[i], 0, random.nextGaussian(), 0.0));
        }
        return out;
    }
}
