package io.streamrlhf.models.hf.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a model folder says about its tokenizer besides {@code tokenizer.json}: the special tokens, flags and chat
 * template of {@code tokenizer_config.json} and the end-of-sequence ids of {@code generation_config.json}. Both
 * files are optional; an absent setting is {@code null} (or empty). Field names follow the files' keys.
 *
 * @param bosToken                   {@code bos_token}
 * @param eosToken                   {@code eos_token}
 * @param padToken                   {@code pad_token}
 * @param unkToken                   {@code unk_token}
 * @param addBosToken                {@code add_bos_token}: whether encoding with special tokens starts with the BOS
 * @param addEosToken                {@code add_eos_token}: whether encoding with special tokens ends with the EOS
 * @param cleanUpTokenizationSpaces  {@code clean_up_tokenization_spaces} (false when absent)
 * @param addedTokensDecoder         {@code added_tokens_decoder}: id to token content
 * @param chatTemplate               {@code chat_template} (or {@code chat_template.jinja}), the Jinja source
 * @param chatTemplateFile           the file the chat template was read from, for error messages
 * @param generationEosTokenIds      {@code generation_config.json}'s {@code eos_token_id} (one id or a list)
 */
public record HfTokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
                                Boolean addBosToken, Boolean addEosToken, boolean cleanUpTokenizationSpaces,
                                Map<Integer, String> addedTokensDecoder, String chatTemplate, Path chatTemplateFile,
                                List<Integer> generationEosTokenIds) {

    /** The tokenizer settings file of a model folder. */
    public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** The generation settings file of a model folder. */
    public static final String GENERATION_CONFIG = "generation_config.json";
    /** Where newer Hugging Face releases save the chat template instead of {@code tokenizer_config.json}. */
    public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Reads the settings of {@code folder}; absent files give absent settings. */
    public static HfTokenizerConfig read(Path folder) {
        Path configFile = folder.resolve(TOKENIZER_CONFIG);
        JsonNode config = readJsonIfPresent(configFile);
        String chatTemplate = chatTemplate(config.path("chat_template"), configFile);
        Path templateFile = configFile;
        Path jinja = folder.resolve(CHAT_TEMPLATE_JINJA);
        if (chatTemplate == null && Files.isRegularFile(jinja)) {
            try {
                chatTemplate = Files.readString(jinja);
                templateFile = jinja;
            } catch (IOException e) {
                throw new TokenizerFileException(jinja, "cannot read the chat template", e);
            }
        }
        Map<Integer, String> added = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.path("added_tokens_decoder").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                added.put(Integer.parseInt(e.getKey()), tokenContent(e.getValue(), configFile, "added_tokens_decoder"));
            } catch (NumberFormatException ex) {
                throw new TokenizerFileException(configFile, "added_tokens_decoder key '" + e.getKey() + "' is not an id");
            }
        }
        Path generationFile = folder.resolve(GENERATION_CONFIG);
        JsonNode eos = readJsonIfPresent(generationFile).path("eos_token_id");
        List<Integer> eosIds = new ArrayList<>();
        if (eos.isInt()) {
            eosIds.add(eos.asInt());
        } else if (eos.isArray()) {
            eos.forEach(id -> eosIds.add(id.asInt()));
        } else if (!eos.isMissingNode() && !eos.isNull()) {
            throw new TokenizerFileException(generationFile, "eos_token_id is neither an id nor a list of ids: " + eos);
        }
        return new HfTokenizerConfig(special(config, "bos_token", configFile), special(config, "eos_token", configFile),
                special(config, "pad_token", configFile), special(config, "unk_token", configFile),
                flag(config, "add_bos_token"), flag(config, "add_eos_token"),
                config.path("clean_up_tokenization_spaces").asBoolean(false), Map.copyOf(added),
                chatTemplate, templateFile, List.copyOf(eosIds));
    }

    private static JsonNode readJsonIfPresent(Path file) {
        if (!Files.isRegularFile(file)) {
            return JSON.missingNode();
        }
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new TokenizerFileException(file, "is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new TokenizerFileException(file, "is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerFileException(file, "cannot be read", e);
        }
    }

    /** A special token is a string, an {@code AddedToken} object with a {@code content}, or null. */
    private static String special(JsonNode config, String key, Path file) {
        JsonNode node = config.path(key);
        return node.isMissingNode() || node.isNull() ? null : tokenContent(node, file, key);
    }

    private static String tokenContent(JsonNode node, Path file, String key) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.path("content").asText();
        }
        throw new TokenizerFileException(file, key + " is neither a string nor a token object: " + node);
    }

    private static Boolean flag(JsonNode config, String key) {
        JsonNode node = config.path(key);
        return node.isBoolean() ? node.asBoolean() : null;
    }

    /** A template string, or a list of named templates of which "default" is the chat template. */
    private static String chatTemplate(JsonNode node, Path file) {
        if (node.isMissingNode() || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if ("default".equals(named.path("name").asText())) {
                    return named.path("template").asText();
                }
            }
            throw new TokenizerFileException(file, "chat_template lists no template named 'default'");
        }
        throw new TokenizerFileException(file, "chat_template is neither a string nor a list of named templates");
    }
}
