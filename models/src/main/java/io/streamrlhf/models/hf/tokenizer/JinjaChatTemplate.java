package io.streamrlhf.models.hf.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A model's {@code chat_template} (Jinja), rendered with Jinjava the way Hugging Face's
 * {@code apply_chat_template} renders it with Jinja2: blocks trimmed and left-stripped ({@code trim_blocks},
 * {@code lstrip_blocks}), the variables {@code messages}, {@code add_generation_prompt} and the special tokens
 * ({@code bos_token}, {@code eos_token}, {@code pad_token}, {@code unk_token}), and the function
 * {@code raise_exception(message)}, which fails the rendering with the template's message.
 *
 * <p>The template is parsed when it is built, so a template that does not parse is refused when the model folder
 * loads, not at the first prompt. Errors name the file the template came from.
 */
public final class JinjaChatTemplate implements ChatTemplate {

    private static final String RAISED = "chat template raised: ";

    private final String source;
    private final Path file;
    private final Map<String, Object> specialTokens;
    private final Jinjava jinjava;

    private JinjaChatTemplate(String source, Path file, Map<String, Object> specialTokens) {
        this.source = source;
        this.file = file;
        this.specialTokens = specialTokens;
        // Jinja2's semantics where Jinjava offers a choice (operator precedence, whitespace control with
        // {%- and {{-, iterating a dict yields its keys, Python-ish rendering of values, a single trailing
        // newline dropped); trim_blocks and lstrip_blocks as transformers sets them for chat templates.
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withIterateOverMapKeys(true)
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .withDefaultKeepTrailingNewlineBehavior(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaChatTemplate.class,
                "raiseException", String.class));
    }

    /**
     * A template from {@code source}, read from {@code file} (named in errors).
     *
     * @param specialTokens the template variables {@code bos_token}, {@code eos_token}, ... (absent ones left out)
     * @throws TokenizerFileException if the template does not parse
     */
    public static JinjaChatTemplate parse(String source, Path file, Map<String, String> specialTokens) {
        JinjaChatTemplate template = new JinjaChatTemplate(source, file, Map.copyOf(specialTokens));
        JinjavaInterpreter interpreter = template.jinjava.newInterpreter();
        interpreter.parse(source);
        template.failOn(interpreter.getErrorsCopy(), "chat_template does not parse");
        return template;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Map<String, Object> bindings = new HashMap<>(specialTokens);
        bindings.put("messages", messages.stream().map(ChatMessage::asTemplateValue).collect(Collectors.toList()));
        bindings.put("add_generation_prompt", addGenerationPrompt);
        RenderResult result = jinjava.renderForResult(source, bindings);
        failOn(result.getErrors(), "chat_template failed to render");
        return result.getOutput();
    }

    @Override
    public boolean isModelTemplate() {
        return true;
    }

    /** The template's Jinja source. */
    public String source() {
        return source;
    }

    /**
     * {@code raise_exception(message)} as templates call it: the rendering stops and reports the message.
     * Public only because Jinjava calls it by reflection.
     */
    public static String raiseException(String message) {
        throw new IllegalStateException(RAISED + message);
    }

    /** Jinjava reports problems as errors in its result rather than throwing; fatal ones refuse the template. */
    private void failOn(List<TemplateError> errors, String what) {
        List<TemplateError> fatal = errors.stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                .collect(Collectors.toList());
        if (fatal.isEmpty()) {
            return;
        }
        String detail = fatal.stream().map(JinjaChatTemplate::describe).collect(Collectors.joining("; "));
        throw new TokenizerFileException(file, what + ": " + detail);
    }

    /** The template's own message where it raised (Jinjava wraps it), else Jinjava's message and line. */
    private static String describe(TemplateError e) {
        for (Throwable t = e.getException(); t != null; t = t.getCause()) {
            String message = t.getMessage();
            int raised = message == null ? -1 : message.indexOf(RAISED);
            if (raised >= 0) {
                return message.substring(raised);
            }
        }
        return "line " + e.getLineno() + ": " + e.getMessage();
    }
}
