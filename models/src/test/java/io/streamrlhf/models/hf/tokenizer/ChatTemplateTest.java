package io.streamrlhf.models.hf.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat templates rendered by Jinjava. The expected texts are what Python's Jinja2 3.1 renders for the same
 * templates and variables with Hugging Face's settings (trim_blocks, lstrip_blocks, raise_exception).
 */
class ChatTemplateTest {

    private static final Path FILE = Path.of("model", "tokenizer_config.json");
    private static final Map<String, String> TOKENS = Map.of("bos_token", "<s>", "eos_token", "</s>");

    @TempDir
    Path dir;

    private static String resource(String name) throws IOException {
        try (InputStream in = ChatTemplateTest.class.getResourceAsStream("/hf/tokenizer/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static ChatTemplate chatml() throws IOException {
        return JinjaChatTemplate.parse(resource("chatml-template.jinja"), FILE, TOKENS);
    }

    @Test
    void chatmlAddsTheGenerationPromptOnlyWhenAsked() throws IOException {
        List<ChatMessage> hi = List.of(new ChatMessage("user", "Hi there"));
        String prefix = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n";
        assertThat(chatml().render(hi, true)).isEqualTo(prefix + "<|im_start|>assistant\n");
        assertThat(chatml().render(hi, false)).isEqualTo(prefix);
        assertThat(chatml().isModelTemplate()).isTrue();
    }

    @Test
    void chatmlUsesTheSystemTurnAndKeepsContentAsIs() throws IOException {
        List<ChatMessage> conversation = List.of(ChatMessage.of("SYSTEM", "Be brief."), ChatMessage.of("USER", "Hi"),
                ChatMessage.of("ASSISTANT", "Hello!"), ChatMessage.of("USER", "Bye"));
        assertThat(chatml().render(conversation, true)).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n"
                + "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n");
        assertThat(chatml().render(List.of(new ChatMessage("user", " a "), new ChatMessage("assistant", "b")), false))
                .isEqualTo("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n a <|im_end|>\n"
                        + "<|im_start|>assistant\nb<|im_end|>\n");
    }

    @Test
    void aTemplateThatRaisesFailsWithItsMessageAndTheFile() throws IOException {
        ChatTemplate template = chatml();
        List<ChatMessage> lateSystem = List.of(new ChatMessage("user", "Hi"), new ChatMessage("system", "late"));
        assertThatThrownBy(() -> template.render(lateSystem, true))
                .isInstanceOf(TokenizerFileException.class)
                .hasMessageContaining(FILE.toString())
                .hasMessageContaining("a system turn must come first");
        assertThatThrownBy(() -> template.render(List.of(new ChatMessage("tool", "x")), true))
                .hasMessageContaining("unknown role: tool");
    }

    @Test
    void specialTokenVariablesAndFiltersRenderAsInJinja2() throws IOException {
        ChatTemplate inst = JinjaChatTemplate.parse(resource("inst-template.jinja"), FILE, TOKENS);
        assertThat(inst.render(List.of(new ChatMessage("user", " a "), new ChatMessage("assistant", "b")), false))
                .isEqualTo("<s>[INST] a [/INST] b</s>");
        assertThat(inst.render(List.of(new ChatMessage("user", "Hi there")), true)).isEqualTo("<s>[INST] Hi there [/INST]");
        assertThatThrownBy(() -> inst.render(List.of(new ChatMessage("assistant", "first")), true))
                .hasMessageContaining("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void aModelFoldersTemplateEncodesTheRenderedTextWithoutAddingSpecialTokens() throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.put("bos_token", "<|endoftext|>");
        config.put("eos_token", "<|endoftext|>");
        config.put("chat_template", resource("inst-template.jinja"));
        Path folder = Gpt2TokenizerFolder.withConfig(dir, json.writeValueAsString(config));
        Files.writeString(folder.resolve(HfTokenizerConfig.GENERATION_CONFIG), "{\"eos_token_id\": [50256, 198]}");
        try (HfTokenizer tokenizer = HfTokenizer.load(folder)) {
            List<ChatMessage> hi = List.of(new ChatMessage("user", "Hi"));
            assertThat(tokenizer.chatTemplate().render(hi, true)).isEqualTo("<|endoftext|>[INST] Hi [/INST]");
            int[] ids = tokenizer.encodeChat(hi, true);
            assertThat(ids[0]).isEqualTo(50256);
            assertThat(ids).containsExactly(tokenizer.encode("<|endoftext|>[INST] Hi [/INST]"));
            assertThat(tokenizer.stopIds()).containsExactly(50256, 198);
        }
    }

    @Test
    void addBosAndEosTokenDecideTheSpecialTokensOfTheModelsOwnEncoding() throws IOException {
        Gpt2TokenizerFolder.withConfig(dir, "{\"bos_token\": \"<|endoftext|>\", \"eos_token\": \"<|endoftext|>\", "
                + "\"add_bos_token\": true, \"add_eos_token\": true}");
        try (HfTokenizer tokenizer = HfTokenizer.load(dir)) {
            assertThat(tokenizer.encode("Hello world", true)).containsExactly(50256, 15496, 995, 50256);
            assertThat(tokenizer.encode("Hello world")).containsExactly(15496, 995);
        }
    }

    @Test
    void aListOfNamedTemplatesOrAChatTemplateFileIsRead() throws IOException {
        Path named = Files.createDirectory(dir.resolve("named"));
        Gpt2TokenizerFolder.withConfig(named, "{\"eos_token\": \"<|endoftext|>\", \"chat_template\": ["
                + "{\"name\": \"tool_use\", \"template\": \"tools\"}, {\"name\": \"default\", \"template\": \"{{ eos_token }}\"}]}");
        try (HfTokenizer tokenizer = HfTokenizer.load(named)) {
            assertThat(tokenizer.chatTemplate().render(List.of(new ChatMessage("user", "x")), true)).isEqualTo("<|endoftext|>");
        }
        Path jinja = Files.createDirectory(dir.resolve("jinja"));
        Gpt2TokenizerFolder.withConfig(jinja, "{\"eos_token\": \"<|endoftext|>\"}");
        Files.writeString(jinja.resolve(HfTokenizerConfig.CHAT_TEMPLATE_JINJA), resource("chatml-template.jinja"));
        try (HfTokenizer tokenizer = HfTokenizer.load(jinja)) {
            assertThat(tokenizer.chatTemplate().render(List.of(new ChatMessage("user", "Hi there")), false))
                    .endsWith("<|im_start|>user\nHi there<|im_end|>\n");
        }
    }
}
