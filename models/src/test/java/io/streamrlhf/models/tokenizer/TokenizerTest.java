package io.streamrlhf.models.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenizerTest {

    private final WordLevelTokenizer words = WordLevelTokenizer.of(List.of("write", "about", "the", "sea", "is",
            "calm", "and", "bright", ".", ",", "don't"));

    @Test
    void wordLevelPutsSpecialsFirstAndMapsWordsInOrder() {
        assertThat(words.padId()).isZero();
        assertThat(words.bosId()).isEqualTo(1);
        assertThat(words.eosId()).isEqualTo(2);
        assertThat(words.unkId()).isEqualTo(3);
        assertThat(words.vocabSize()).isEqualTo(4 + 11);
        assertThat(words.encode("Write about the sea.")).containsExactly(4, 5, 6, 7, 12);
    }

    @Test
    void wordLevelSplitsPunctuationKeepsApostrophesAndMapsUnknowns() {
        assertThat(words.split("The sea, calm!don't")).containsExactly("the", "sea", ",", "calm", "!", "don't");
        assertThat(words.encode("the ocean is calm")).containsExactly(6, 3, 8, 9);
    }

    @Test
    void wordLevelDecodeSkipsSpecialsAndAttachesPunctuation() {
        int[] ids = {1, 6, 7, 8, 9, 13, 10, 11, 12, 2, 0, 0};
        assertThat(words.decode(ids)).isEqualTo("the sea is calm, and bright.");
        assertThat(words.decode(words.encode("the sea is calm, and bright."))).isEqualTo("the sea is calm, and bright.");
        assertThatThrownBy(() -> words.decode(new int[] {99})).hasMessageContaining("id 99");
    }

    @Test
    void wordLevelRefusesDuplicateWords() {
        assertThatThrownBy(() -> WordLevelTokenizer.of(List.of("a", "A")))
                .hasMessageContaining("'a' appears twice");
    }

    @Test
    void huggingFaceTokenizerJsonLoadsFromALocalFile() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/tokenizer/tokenizer.json").toURI());
        try (HuggingFaceJsonTokenizer hf = HuggingFaceJsonTokenizer.load(file, "<bos>", "<eos>", "<pad>")) {
            assertThat(hf.vocabSize()).isEqualTo(14);
            assertThat(hf.bosId()).isEqualTo(1);
            assertThat(hf.eosId()).isEqualTo(2);
            assertThat(hf.padId()).isZero();
            assertThat(hf.encode("Write about the sea.")).containsExactly(4, 5, 6, 7, 12);
            assertThat(hf.encode("the ocean")).containsExactly(6, 3);
            assertThat(hf.token(9)).isEqualTo("calm");
            assertThat(hf.decode(new int[] {1, 6, 7, 8, 9, 2})).isEqualTo("the sea is calm");
            // same ids as our word-level tokenizer over the same vocabulary
            assertThat(hf.encode("the sea is calm and bright")).containsExactly(words.encode("the sea is calm and bright"));
        }
    }

    @Test
    void huggingFaceEncodesALongTextWhole() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/tokenizer/tokenizer.json").toURI());
        String text = String.join(" ", java.util.Collections.nCopies(400, "the sea is calm"));
        try (HuggingFaceJsonTokenizer hf = HuggingFaceJsonTokenizer.load(file, "<bos>", "<eos>", "<pad>")) {
            int[] ids = hf.encode(text);
            assertThat(ids).as("1,600 words, no truncation").hasSize(1_600);
            assertThat(ids[1_599]).isEqualTo(9);
        }
    }

    @Test
    void huggingFaceRefusesAMissingSpecialToken() throws URISyntaxException {
        Path file = Path.of(getClass().getResource("/tokenizer/tokenizer.json").toURI());
        assertThatThrownBy(() -> HuggingFaceJsonTokenizer.load(file, "<s>", "<eos>", "<pad>"))
                .hasMessageContaining("BOS token '<s>'");
    }
}
