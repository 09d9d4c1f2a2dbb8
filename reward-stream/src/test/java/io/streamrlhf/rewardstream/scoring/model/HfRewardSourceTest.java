package io.streamrlhf.rewardstream.scoring.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.hf.HfFormatException;
import io.streamrlhf.models.hf.HfRewardModel;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.models.hf.TinyHfModels.Architecture;
import io.streamrlhf.models.hf.tokenizer.HfTokenizer;
import io.streamrlhf.models.hf.tokenizer.TokenizerFileException;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hf:DIR} on tiny random reward folders ({@link TinyHfModels#writeReward}) with a small word-level
 * {@code tokenizer.json}: the scores of a left-padded, length-sorted batch equal {@link HfRewardModel} run on each
 * row alone, the text is rendered through the chat template or joined as plain text, long inputs keep their end, and
 * folders that are not reward folders or lack a tokenizer are refused by file.
 */
class HfRewardSourceTest {

    private static final String PAD = "<pad>";
    private static final String BOS = "<bos>";
    private static final String EOS = "<eos>";
    private static final String IM_START = "<|im_start|>";
    private static final String IM_END = "<|im_end|>";
    /** Ids 0-4 are the special tokens above, then these words in order. */
    private static final List<String> WORDS = List.of("user", "assistant", "the", "sea", "is", "calm", "and",
            "bright", "a", "ship", "sails", "at", "dawn", "write", "about", ".", ",", "<unk>");
    /** Alternating user and assistant turns, ChatML style, without a generation prompt. */
    private static final String TEMPLATE = "{% for m in messages %}" + IM_START + "{{ m['role'] }}\n{{ m['content'] }}"
            + IM_END + "\n{% endfor %}";
    private static final List<ScoringInput> INPUTS = List.of(
            ScoringInput.of("short", "write", "calm ."),
            ScoringInput.of("long", "write about the sea at dawn .", "the sea is calm and bright , a ship sails ."),
            ScoringInput.of("middle", "write about a ship", "a ship sails at dawn ."),
            // the policy's token ids are not the reward model's: they must be ignored
            new ScoringInput("tokens", "the sea", "is bright .", new int[] {999, 998}, new int[] {997}, null),
            ScoringInput.of("empty-response", "write about the sea", ""));

    @TempDir
    Path tmp;

    private static int id(String token) {
        return switch (token) {
            case PAD -> 0;
            case BOS -> 1;
            case EOS -> 2;
            case IM_START -> 3;
            case IM_END -> 4;
            default -> 5 + WORDS.indexOf(token);
        };
    }

    /**
     * Writes a WordLevel {@code tokenizer.json} (whitespace and punctuation split, the five special tokens as added
     * tokens, padded with filler words to {@code size} ids) and a {@code tokenizer_config.json}.
     */
    static void writeTokenizer(Path dir, int size, String chatTemplate) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        List<String> specials = List.of(PAD, BOS, EOS, IM_START, IM_END);
        for (int i = 0; i < specials.size(); i++) {
            added.addObject().put("id", i).put("content", specials.get(i)).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        List<String> all = new ArrayList<>(specials);
        all.addAll(WORDS);
        for (int i = all.size(); i < size; i++) {
            all.add("filler" + i);
        }
        for (int i = 0; i < all.size(); i++) {
            vocab.put(all.get(i), i);
        }
        model.put("unk_token", "<unk>");
        Files.writeString(dir.resolve(HfTokenizer.TOKENIZER_JSON), mapper.writeValueAsString(root));
        ObjectNode config = mapper.createObjectNode();
        config.put("bos_token", BOS).put("eos_token", EOS).put("pad_token", PAD).put("add_bos_token", true);
        if (chatTemplate != null) {
            config.put("chat_template", chatTemplate);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), mapper.writeValueAsString(config));
    }

    private Path rewardFolder(String name, Architecture architecture, Integer pad, String chatTemplate)
            throws IOException {
        Path dir = TinyHfModels.writeReward(tmp.resolve(name), architecture, 11, pad);
        writeTokenizer(dir, 0, chatTemplate);
        return dir;
    }

    /** {@link HfRewardModel#rewards} on one unpadded row at a time, from a model loaded on its own. */
    private static float[] rowByRow(Path dir, List<int[]> rows) {
        float[] out = new float[rows.size()];
        try (HfRewardModel rm = HfRewardModel.load(dir)) {
            for (int i = 0; i < rows.size(); i++) {
                int[] row = rows.get(i);
                try (NDManager step = rm.manager().newSubManager()) {
                    out[i] = rm.rewards(step.create(row, new Shape(1, row.length))).getFloat(0);
                }
            }
        }
        return out;
    }

    private static int[] ids(String... tokens) {
        return Arrays.stream(tokens).mapToInt(HfRewardSourceTest::id).toArray();
    }

    @Test
    void scoresABatchOfDifferentLengthsAsTheModelScoresEachRowAlone() throws IOException {
        Path dir = rewardFolder("qwen2-rm", Architecture.QWEN2, 0, TEMPLATE);
        try (HfRewardSource source = HfRewardSource.load(dir, "rm", 1, 2, 0);
             HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            List<int[]> rows = new ArrayList<>();
            for (ScoringInput input : INPUTS) {
                String rendered = IM_START + "user\n" + input.promptText() + IM_END + "\n" + IM_START + "assistant\n"
                        + input.responseText() + IM_END + "\n";
                int[] row = source.encode(input);
                assertThat(row).as("%s: the chat template's text in the folder's vocabulary", input.id())
                        .containsExactly(tokenizer.encode(rendered, false));
                rows.add(row);
            }
            assertThat(rows.get(0)).as("no BOS: a template writes its own special tokens").containsExactly(
                    ids(IM_START, "user", "write", IM_END, IM_START, "assistant", "calm", ".", IM_END));
            assertThat(rows.get(3)).doesNotContain(999, 998, 997);
            assertThat(rows.stream().mapToInt(r -> r.length).distinct().count()).as("lengths differ").isEqualTo(5);

            double[] scores = source.score(INPUTS);
            float[] alone = rowByRow(dir, rows);
            for (int i = 0; i < INPUTS.size(); i++) {
                assertThat(scores[i]).as("%s in a padded batch of 2", INPUTS.get(i).id())
                        .isCloseTo(alone[i], within(1e-5));
            }
            assertThat(scores[0]).as("different inputs get different rewards").isNotCloseTo(scores[1], within(1e-6));
            double[] one = source.score(List.of(INPUTS.get(2)));
            assertThat(one[0]).as("a batch's order and company change nothing").isCloseTo(scores[2], within(1e-5));
        }
    }

    @Test
    void withoutAChatTemplateJoinsPromptAndResponseAsPlainTextWithTheTokenizersSpecialTokens() throws IOException {
        Path dir = rewardFolder("llama-rm", Architecture.LLAMA, 0, null);
        try (HfRewardSource source = HfRewardSource.load(dir, "rm", 1, 8, 0)) {
            assertThat(source.tokenizer().chatTemplate().isModelTemplate()).isFalse();
            assertThat(source.encode(ScoringInput.of("a", "the sea", "is calm")))
                    .as("a space between prompt and response, the BOS add_bos_token asks for")
                    .containsExactly(ids(BOS, "the", "sea", "is", "calm"));
            assertThat(HfRewardSource.plainText("the sea\n", "is calm")).isEqualTo("the sea\nis calm");
            assertThat(HfRewardSource.plainText("the sea", " is calm")).isEqualTo("the sea is calm");
            assertThat(HfRewardSource.plainText("the sea", "")).isEqualTo("the sea");

            List<int[]> rows = INPUTS.stream().map(source::encode).toList();
            double[] scores = source.score(INPUTS);
            float[] alone = rowByRow(dir, rows);
            for (int i = 0; i < INPUTS.size(); i++) {
                assertThat(scores[i]).as(INPUTS.get(i).id()).isCloseTo(alone[i], within(1e-5));
            }
        }
    }

    @Test
    void keepsTheLastMaxTokensOfALongInput() throws IOException {
        Path dir = rewardFolder("llama-rm-short", Architecture.LLAMA, 0, null);
        ScoringInput input = ScoringInput.of("long", "write about the sea", "a ship sails at dawn .");
        try (HfRewardSource source = HfRewardSource.load(dir, "rm", 1, 8, 4)) {
            int[] row = source.encode(input);
            assertThat(row).containsExactly(ids("sails", "at", "dawn", "."));
            double[] scores = source.score(List.of(input, INPUTS.get(0)));
            float[] alone = rowByRow(dir, List.of(row, source.encode(INPUTS.get(0))));
            assertThat(scores[0]).isCloseTo(alone[0], within(1e-5));
            assertThat(scores[1]).isCloseTo(alone[1], within(1e-5));
        }
    }

    @Test
    void withoutAPadTokenIdRunsOneRowAtATime() throws IOException {
        Path dir = rewardFolder("gpt2-rm-no-pad", Architecture.GPT2, null, TEMPLATE);
        try (HfRewardSource source = HfRewardSource.load(dir, "rm", 1, 8, 0)) {
            assertThat(source.batch()).isEqualTo(1);
            List<int[]> rows = INPUTS.stream().map(source::encode).toList();
            double[] scores = source.score(INPUTS);
            float[] alone = rowByRow(dir, rows);
            for (int i = 0; i < INPUTS.size(); i++) {
                assertThat(scores[i]).as(INPUTS.get(i).id()).isCloseTo(alone[i], within(1e-5));
            }
        }
    }

    @Test
    void anInputTheTemplateRefusesGetsNaNAndTheRestAreScored() throws IOException {
        String strict = "{% for m in messages %}{% if m['content'] == '' %}{{ raise_exception('empty turn') }}"
                + "{% endif %}{{ m['content'] }}\n{% endfor %}";
        Path dir = rewardFolder("mistral-rm", Architecture.MISTRAL, 0, strict);
        try (HfRewardSource source = HfRewardSource.load(dir, "rm", 1, 8, 0)) {
            double[] scores = source.score(INPUTS);
            assertThat(scores[4]).as("the empty response").isNaN();
            for (int i = 0; i < 4; i++) {
                assertThat(scores[i]).as(INPUTS.get(i).id()).isFinite();
            }
        }
    }

    @Test
    void parsesTheSpecAndBuildsTheSourceWithItsOptions() throws IOException {
        Path dir = rewardFolder("qwen2-rm", Architecture.QWEN2, 0, TEMPLATE);
        RewardSpec spec = RewardSpec.parse("hf:" + dir + ";name=helpful;version=7;batch=3;max_tokens=16");
        assertThat(spec.kind()).isEqualTo("hf");
        assertThat(spec.target()).isEqualTo(dir.toString());
        assertThat(spec.options()).containsExactly(Map.entry("name", "helpful"), Map.entry("version", "7"),
                Map.entry("batch", "3"), Map.entry("max_tokens", "16"));
        assertThat(RewardSpec.KINDS).contains("hf");
        try (RewardSource source = RewardSources.create(spec)) {
            assertThat(source).isInstanceOf(HfRewardSource.class);
            assertThat(source.name()).isEqualTo("helpful");
            assertThat(source.version()).isEqualTo(7);
            assertThat(source.kind()).isEqualTo(ScoreSource.NEURAL_RM);
            assertThat(source.modelRef().getName()).isEqualTo("helpful");
            assertThat(source.modelRef().getVersion()).isEqualTo(7);
            assertThat(((HfRewardSource) source).batch()).isEqualTo(3);
            assertThat(((HfRewardSource) source).maxTokens()).isEqualTo(16);
        }
        try (HfRewardSource source = (HfRewardSource) RewardSources.create(RewardSpec.parse("hf:" + dir))) {
            assertThat(source.name()).as("the folder's name").isEqualTo("qwen2-rm");
            assertThat(source.version()).isEqualTo(1);
            assertThat(source.batch()).isEqualTo(8);
            assertThat(source.maxTokens()).as("the model's context").isEqualTo(64);
        }
    }

    @Test
    void refusesACausalLmFolderNamingItsConfigAndTheLayoutToUse() throws IOException {
        Path dir = TinyHfModels.write(tmp.resolve("qwen2-lm"), Architecture.QWEN2, 11);
        writeTokenizer(dir, 0, TEMPLATE);
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + dir)))
                .isInstanceOf(HfFormatException.class)
                .hasMessageStartingWith(dir.resolve("config.json") + ": architectures [Qwen2ForCausalLM] is not a"
                        + " reward model")
                .hasMessageContaining("*ForSequenceClassification folder with num_labels 1")
                .hasMessageContaining("Qwen2ForCausalLM is a causal language model");
    }

    @Test
    void refusesAFolderWithoutTokenizerJsonNamingTheFile() throws IOException {
        Path dir = TinyHfModels.writeReward(tmp.resolve("no-tokenizer"), Architecture.QWEN2, 11, 0);
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + dir)))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer.json") + ": does not exist");
    }

    @Test
    void refusesATokenizerBeyondTheEmbeddingAndBadOptions() throws IOException {
        Path dir = TinyHfModels.writeReward(tmp.resolve("mistral-rm"), Architecture.MISTRAL, 11, 0);
        writeTokenizer(dir, 70, null);  // the tiny Mistral embeds 64 ids
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + dir)))
                .hasMessageContaining(dir.resolve("tokenizer.json") + " has ids up to 69, beyond the embedding of"
                        + " vocab_size 64 in " + dir.resolve("config.json"));

        Path qwen = rewardFolder("qwen2-rm", Architecture.QWEN2, 0, TEMPLATE);
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + qwen + ";max_tokens=65")))
                .hasMessageContaining("max_tokens 65")
                .hasMessageContaining("the model's context 64");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + qwen + ";tokenizer=x.json")))
                .hasMessageContaining("unknown option 'tokenizer'")
                .hasMessageContaining("takes name, ");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + qwen + ";batch=0")))
                .hasMessageContaining("batch=0 must be at least 1");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("hf:" + tmp.resolve("absent"))))
                .hasMessageContaining("Hugging Face reward folder " + tmp.resolve("absent") + " does not exist");
        assertThatThrownBy(() -> RewardSpec.parse("hg:" + qwen))
                .hasMessageContaining("expected one of rule, rm, torchscript, hf, judge, verify, http, embed");
    }
}
