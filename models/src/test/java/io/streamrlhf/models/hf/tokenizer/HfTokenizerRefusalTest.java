package io.streamrlhf.models.hf.tokenizer;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model folders whose tokenizer files are missing, malformed or inconsistent are refused, naming the file. */
class HfTokenizerRefusalTest {

    @TempDir
    Path dir;

    @Test
    void aFolderWithoutTokenizerJson() throws IOException {
        Files.writeString(dir.resolve(HfTokenizerConfig.TOKENIZER_CONFIG), "{}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json") + ": does not exist");
    }

    @Test
    void aMalformedTokenizerJson() throws IOException {
        Files.writeString(dir.resolve(HfTokenizer.TOKENIZER_JSON), "{\"model\": {\"vocab\": {\"a\": 0,");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json") + ": is not valid JSON");
    }

    @Test
    void aTokenizerJsonTheLibraryCannotLoad() throws IOException {
        Files.writeString(dir.resolve(HfTokenizer.TOKENIZER_JSON),
                "{\"model\": {\"type\": \"NoSuchModel\", \"vocab\": {\"a\": 0}}, \"added_tokens\": []}");
        Files.writeString(dir.resolve(HfTokenizerConfig.TOKENIZER_CONFIG), "{\"eos_token\": \"a\"}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json") + ": the tokenizers library cannot load it");
    }

    @Test
    void aMalformedTokenizerConfig() {
        Gpt2TokenizerFolder.withConfig(dir, "{\"eos_token\": ");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .hasMessageContaining(dir.resolve("tokenizer_config.json") + ": is not valid JSON");
    }

    @Test
    void aTemplateThatDoesNotParse() {
        Gpt2TokenizerFolder.withConfig(dir, "{\"eos_token\": \"<|endoftext|>\", "
                + "\"chat_template\": \"{% for message in messages %}{{ message['content'] }}\"}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageContaining(dir.resolve("tokenizer_config.json") + ": chat_template does not parse");
    }

    @Test
    void aSpecialTokenOutsideTheVocabulary() {
        Gpt2TokenizerFolder.withConfig(dir, "{\"eos_token\": \"<|endoftext|>\", \"pad_token\": {\"__type\": "
                + "\"AddedToken\", \"content\": \"<pad>\"}}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .hasMessageContaining(dir.resolve("tokenizer_config.json") + ": pad_token '<pad>' is not in the vocabulary");
    }

    @Test
    void anAddedTokenTheTokenizerCannotProduce() {
        Gpt2TokenizerFolder.withConfig(dir, "{\"eos_token\": \"<|endoftext|>\", \"added_tokens_decoder\": "
                + "{\"50256\": {\"content\": \"<|endoftext|>\"}, \"50257\": {\"content\": \"<|im_start|>\"}}}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .hasMessageContaining(dir.resolve("tokenizer_config.json") + ": added_tokens_decoder holds id 50257");
    }

    @Test
    void aGenerationEosOutsideTheVocabularyOrNoEosAtAll() throws IOException {
        Gpt2TokenizerFolder.withConfig(dir, "{}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .hasMessageContaining(dir.resolve("tokenizer_config.json") + ": declares no eos_token");
        Files.writeString(dir.resolve(HfTokenizerConfig.GENERATION_CONFIG), "{\"eos_token_id\": 60000}");
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .hasMessageContaining(dir.resolve("generation_config.json") + ": eos_token_id 60000 is not in the vocabulary");
    }
}
