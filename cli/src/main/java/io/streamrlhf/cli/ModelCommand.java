package io.streamrlhf.cli;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.hf.ModelInspection;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf model}: commands about Hugging Face model folders. */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Hugging Face model folders (config.json, model.safetensors, tokenizer.json): check what "
                + "one makes of a text.",
        subcommands = ModelCommand.Inspect.class)
final class ModelCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * {@code rlhf model inspect}: the tokens, their ids and each next-token log-prob under the model, or a reward
     * model's reward of the sequence.
     */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Load a Hugging Face causal-LM folder (GPT-2, Llama, Qwen2, Mistral) and print each token "
                    + "of a text (or of given ids), its id and the log-prob the model gives it after the ones "
                    + "before: the first check that a folder loads as intended.",
                    "A reward-model folder (GPT2/Llama/Qwen2/MistralForSequenceClassification, num_labels 1) gives "
                            + "the reward of the whole sequence instead, and no log-probs: a reward model has no "
                            + "next-token distribution.",
                    "JSON: {\"ids\":[...], \"tokens\":[...], \"logprobs\":[...], \"reward\":...}; logprobs[i] is the "
                            + "log-prob of ids[i+1] given ids[0..i] (empty for a reward model); reward is null for "
                            + "a causal LM."})
    static final class Inspect implements Callable<Integer> {

        @Spec CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", required = true, description = "The model folder.")
        Path model;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Input input;

        static final class Input {
            @Option(names = "--text", paramLabel = "T",
                    description = "Text, tokenised by the folder's tokenizer.json with its special tokens.")
            String text;

            @Option(names = "--tokens", paramLabel = "IDS", description = "Token ids, comma-separated.")
            String tokens;
        }

        @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
                description = "PyTorch intra-op threads; 0 for all cores. Default: ${DEFAULT-VALUE}.")
        int threads;

        @Option(names = "--json", description = "Print one JSON line only.")
        boolean json;

        @Override
        public Integer call() {
            if (!Files.isDirectory(model)) {
                throw new ParameterException(spec.commandLine(), "--model " + model + " is not a directory");
            }
            int[] ids = null;
            if (input.tokens != null) {
                try {
                    ids = Arrays.stream(input.tokens.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                            .mapToInt(Integer::parseInt).toArray();
                } catch (NumberFormatException e) {
                    throw new ParameterException(spec.commandLine(), "--tokens must be comma-separated integers, got '"
                            + input.tokens + "'");
                }
                if (ids.length == 0) {
                    throw new ParameterException(spec.commandLine(), "--tokens has no ids");
                }
            } else if (input.text.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--text is empty");
            }
            ModelRuntime.init(threads);
            ModelInspection result = ids != null ? ModelInspection.ofIds(model, ids)
                    : ModelInspection.ofText(model, input.text);
            PrintWriter out = spec.commandLine().getOut();
            if (!json) {
                result.table().forEach(out::println);
            }
            out.println(result.json().toString());
            out.flush();
            return 0;
        }
    }
}
