package io.streamrlhf.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.models.bench.ModelBench;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * PyTorch eager on the same Hugging Face folder and workload, as a child process: {@code shared/tools/torch-baseline/run
 * --hf DIR} with our batch, prompt, new tokens, threads, seconds, seed and three warm-up calls, run after our own
 * measurement so that the two never share the cores. Its last output line is one JSON object
 * ({@code sample_tokens_per_s}, {@code ppo_sequences_per_s}, ...), read back here.
 */
final class TorchBaseline {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path script;

    TorchBaseline(Path script) {
        this.script = script;
    }

    /**
     * The command line for {@code model} and {@code cfg}; {@code phases} is the baseline's {@code --phases}
     * ({@code sample,ppo} or {@code ppo}). The matrix-multiply peak is skipped ({@code --mm-sizes ''}).
     */
    List<String> command(Path model, ModelBench.Config cfg, String phases) {
        return List.of(script.toString(), "--hf", model.toString(), "--batch", Integer.toString(cfg.batch()),
                "--prompt", Integer.toString(cfg.prompt()), "--new-tokens", Integer.toString(cfg.newTokens()),
                "--threads", Integer.toString(cfg.threads()), "--seconds", Double.toString(cfg.seconds()),
                "--seed", Long.toString(cfg.seed()), "--warmup", "3", "--phases", phases, "--mm-sizes", "");
    }

    /**
     * Runs the baseline and returns its JSON object.
     *
     * @throws IllegalStateException naming the command and quoting the end of its output when it fails or prints no
     *                               JSON line
     */
    JsonNode run(Path model, ModelBench.Config cfg, String phases, Consumer<String> progress) {
        List<String> command = command(model, cfg, phases);
        progress.accept("PyTorch eager on the same folder and settings: " + shellLine(command) + " ...");
        String output;
        int exit;
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getOutputStream().close();
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            exit = process.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the PyTorch baseline " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the PyTorch baseline ran", e);
        }
        List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
        String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        JsonNode json = null;
        if (exit == 0 && last.startsWith("{")) {
            try {
                json = JSON.readTree(last);
            } catch (IOException e) {
                json = null;
            }
        }
        if (json == null || !json.isObject()) {
            String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
            throw new IllegalStateException("the PyTorch baseline `" + shellLine(command) + "` exited " + exit
                    + " without a JSON line; its output ended:\n" + tail);
        }
        return json;
    }

    /**
     * Adds {@code torch_<key>} for each of {@code keys} pairs ({@code {torch's key, our key}}) read from
     * {@code torch}, and {@code <ourKey>_vs_torch}-style ratios named by the third entry; also the baseline's torch
     * version, threads and command line.
     */
    static void addTo(ObjectNode ours, JsonNode torch, List<String> command, String[]... keys) {
        for (String[] k : keys) {
            String theirs = k[0];
            String mine = k[1];
            String ratio = k[2];
            JsonNode value = torch.get(theirs);
            if (value == null || !value.isNumber()) {
                continue;
            }
            ours.put("torch_" + mine, value.asDouble());
            double our = ours.path(mine).asDouble(Double.NaN);
            if (value.asDouble() > 0 && !Double.isNaN(our)) {
                ours.put(ratio, Math.round(our / value.asDouble() * 1000) / 1000.0);
            }
        }
        ours.put("torch_version", torch.path("torch").asText());
        ours.put("torch_threads", torch.path("threads").asInt());
        ours.put("torch_command", shellLine(command));
    }

    /** The command as one shell line (arguments quoted where they need it). */
    static String shellLine(List<String> command) {
        List<String> quoted = new ArrayList<>();
        for (String arg : command) {
            quoted.add(arg.isEmpty() || !arg.matches("[A-Za-z0-9_./=:,+-]+") ? "'" + arg.replace("'", "'\\''") + "'"
                    : arg);
        }
        return String.join(" ", quoted);
    }
}
