package io.streamrlhf.cli.bench;

import java.io.PrintWriter;
import java.util.function.Consumer;

/** Where a benchmark's progress lines go: printed at once for people, or nowhere under {@code --json}. */
final class BenchProgress {

    private BenchProgress() {
    }

    static Consumer<String> to(PrintWriter out, boolean jsonOnly) {
        if (jsonOnly) {
            return line -> { };
        }
        return line -> {
            out.println(line);
            out.flush();
        };
    }
}
