package io.streamrlhf.evaluator;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the tests' RMB data lives: the project's own fixture, and the shared RMB sample when present. */
public final class RmbFixture {

    private RmbFixture() {
    }

    /** The fixture in the benchmark's original layout: {@code rmb-fixture/RMB_dataset/...}, 8 pairwise + 5 BoN items. */
    public static Path originalLayout() {
        try {
            return Path.of(RmbFixture.class.getResource("/rmb-fixture/RMB_dataset").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The shared sample ({@code ../shared/rmb} beside the project root), if this checkout has it. */
    public static Optional<Path> sharedSample() {
        String root = System.getProperty("project.root");
        Path base = root != null ? Path.of(root) : Path.of("").toAbsolutePath().getParent();
        Path sample = base.resolve("../shared/rmb").normalize();
        return Files.isDirectory(sample) ? Optional.of(sample) : Optional.empty();
    }

    /** Why a test that needs the sample is skipped. */
    public static String sampleMissing() {
        return "RMB sample not found at ../shared/rmb relative to the project root (" + System.getProperty("project.root")
                + "); the project's own fixture covers the same code paths";
    }
}
