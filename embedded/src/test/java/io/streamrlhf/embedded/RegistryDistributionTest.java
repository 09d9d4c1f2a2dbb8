package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding, checking and unpacking a registry distribution, with small fake distributions. */
class RegistryDistributionTest {

    @TempDir
    Path tmp;

    @Test
    void theBuildRecordNamesTheDownloadedZip() {
        RegistryDistribution.BuildInfo build = RegistryDistribution.BuildInfo.load();
        assertThat(build.version()).isEqualTo("3.0.9");
        assertThat(build.sha1()).matches("[0-9a-f]{40}");
        assertThat(build.zipCandidates().get(0).toString()).endsWith("apicurio-registry-app-3.0.9-all.zip");
    }

    @Test
    void anUnpackedDirectoryIsUsedInPlace() throws Exception {
        Path dir = fakeDistributionDir(tmp.resolve("dist"));
        RegistryDistribution d = resolve(dir, Map.of(), Map.of(), noBuild());
        assertThat(d.home()).isEqualTo(dir);
        assertThat(d.runnerJar()).isEqualTo(dir.resolve("fake-app-1.0-runner.jar"));
        assertThat(d.mainClass()).isEqualTo("fake.Main");
        assertThat(d.unpackedNow()).isFalse();
    }

    @Test
    void aDistributionOneLevelDownIsFound() throws Exception {
        Path outer = tmp.resolve("outer");
        fakeDistributionDir(outer.resolve("apicurio-registry-3.0.9"));
        assertThat(resolve(outer, Map.of(), Map.of(), noBuild()).home()).isEqualTo(outer.resolve("apicurio-registry-3.0.9"));
    }

    @Test
    void theBuilderWinsOverTheSystemPropertyWhichWinsOverTheEnvironment() throws Exception {
        Path a = fakeDistributionDir(tmp.resolve("a"));
        Path b = fakeDistributionDir(tmp.resolve("b"));
        Path c = fakeDistributionDir(tmp.resolve("c"));
        Map<String, String> props = Map.of(RegistryDistribution.HOME_PROPERTY, b.toString());
        Map<String, String> env = Map.of(RegistryDistribution.HOME_ENV, c.toString());
        assertThat(resolve(a, props, env, noBuild()).home()).isEqualTo(a);
        assertThat(resolve(null, props, env, noBuild()).home()).isEqualTo(b);
        assertThat(resolve(null, Map.of(), env, noBuild()).home()).isEqualTo(c);
        assertThat(resolve(null, Map.of(), env, noBuild()).source()).contains(RegistryDistribution.HOME_ENV);
    }

    @Test
    void aMissingExplicitPathIsAnErrorNamingItsSource() {
        Path missing = tmp.resolve("nowhere");
        assertThatThrownBy(() -> resolve(null, Map.of(RegistryDistribution.HOME_PROPERTY, missing.toString()), Map.of(),
                noBuild()))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("system property " + RegistryDistribution.HOME_PROPERTY)
                .hasMessageContaining(missing.toString())
                .hasMessageContaining("missing");
    }

    @Test
    void aDirectoryWithoutARunnerJarIsRejected() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(empty.resolve("README"), "nothing here");
        assertThatThrownBy(() -> resolve(empty, Map.of(), Map.of(), noBuild()))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("is not an Apicurio Registry distribution")
                .hasMessageContaining("-runner.jar");
    }

    @Test
    void nothingFoundListsWhatWasSearchedAndHowToFixIt() {
        Path zip = tmp.resolve("repo/apicurio-registry-app-3.0.9-all.zip");
        RegistryDistribution.BuildInfo build = new RegistryDistribution.BuildInfo("3.0.9", null, List.of(zip));
        assertThatThrownBy(() -> resolve(null, Map.of(), Map.of(), build))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("distribution not found")
                .hasMessageContaining(zip + " (missing)")
                .hasMessageContaining("./mvnw -pl embedded install")
                .hasMessageContaining(RegistryDistribution.HOME_ENV);
    }

    @Test
    void theBuildsZipIsUnpackedOnceIntoTheCacheAfterItsSha1IsChecked() throws Exception {
        Path zip = fakeDistributionZip(tmp.resolve("repo/fake-app-1.0-all.zip"), null);
        Path cache = tmp.resolve("cache");
        RegistryDistribution.BuildInfo build = new RegistryDistribution.BuildInfo("1.0",
                RegistryDistribution.sha1(zip), List.of(zip));

        RegistryDistribution first = resolve(null, Map.of(), Map.of(), build, cache);
        assertThat(first.unpackedNow()).isTrue();
        assertThat(first.home().getParent()).isEqualTo(cache);
        assertThat(first.home().resolve(RegistryDistribution.COMPLETE_MARKER)).isRegularFile();
        assertThat(first.home().resolve("lib/dep.jar")).isRegularFile();

        RegistryDistribution second = resolve(null, Map.of(), Map.of(), build, cache);
        assertThat(second.unpackedNow()).isFalse();
        assertThat(second.home()).isEqualTo(first.home());
        try (Stream<Path> entries = Files.list(cache)) {
            assertThat(entries).hasSize(1); // no temporary directories left behind
        }
    }

    @Test
    void aZipWithTheWrongSha1IsRefusedAndNothingIsCached() throws Exception {
        Path zip = fakeDistributionZip(tmp.resolve("repo/fake-app-1.0-all.zip"), null);
        Path cache = tmp.resolve("cache");
        RegistryDistribution.BuildInfo build = new RegistryDistribution.BuildInfo("1.0", "0".repeat(40), List.of(zip));
        assertThatThrownBy(() -> resolve(null, Map.of(), Map.of(), build, cache))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("is damaged")
                .hasMessageContaining("expected " + "0".repeat(40));
        assertThat(cache).doesNotExist();
    }

    @Test
    void aZipEntryEscapingTheTargetIsRefused() throws Exception {
        Path zip = fakeDistributionZip(tmp.resolve("evil-all.zip"), "../../escaped.txt");
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> resolve(zip, Map.of(), Map.of(), noBuild(), cache))
                .isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("outside");
        assertThat(tmp.resolve("escaped.txt")).doesNotExist();
        try (Stream<Path> entries = Files.list(cache)) {
            assertThat(entries).isEmpty();
        }
    }

    @Test
    void twoRacingUnpacksEndWithOneCompleteCopy() throws Exception {
        Path zip = fakeDistributionZip(tmp.resolve("fake-app-1.0-all.zip"), null);
        Path cache = tmp.resolve("cache");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<RegistryDistribution>> tasks = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                tasks.add(() -> RegistryDistribution.unpackCached(zip, cache, "test", null));
            }
            List<Path> homes = new ArrayList<>();
            for (Future<RegistryDistribution> f : pool.invokeAll(tasks)) {
                homes.add(f.get().home());
            }
            assertThat(homes).containsOnly(homes.get(0));
            assertThat(homes.get(0).resolve("fake-app-1.0-runner.jar")).isRegularFile();
            try (Stream<Path> entries = Files.list(cache)) {
                assertThat(entries).hasSize(1);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private RegistryDistribution resolve(Path explicit, Map<String, String> props, Map<String, String> env,
                                         RegistryDistribution.BuildInfo build) {
        return resolve(explicit, props, env, build, tmp.resolve("cache"));
    }

    private static RegistryDistribution resolve(Path explicit, Map<String, String> props, Map<String, String> env,
                                                RegistryDistribution.BuildInfo build, Path cache) {
        return RegistryDistribution.resolve(explicit, cache, props::get, env::get, build);
    }

    private RegistryDistribution.BuildInfo noBuild() {
        return new RegistryDistribution.BuildInfo("3.0.9", null, List.of(tmp.resolve("no-such.zip")));
    }

    /** A directory shaped like the Quarkus legacy-jar layout: a runner jar with a Main-Class, and lib/. */
    static Path fakeDistributionDir(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("lib"));
        try (OutputStream out = Files.newOutputStream(dir.resolve("fake-app-1.0-runner.jar"))) {
            writeRunnerJar(out);
        }
        Files.write(dir.resolve("lib/dep.jar"), new byte[] {1, 2, 3});
        return dir;
    }

    /** The same layout as a zip; {@code extraEntry} adds one more (for path-escape tests). */
    static Path fakeDistributionZip(Path zip, String extraEntry) throws IOException {
        Files.createDirectories(zip.getParent());
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            out.putNextEntry(new ZipEntry("lib/"));
            out.closeEntry();
            out.putNextEntry(new ZipEntry("lib/dep.jar"));
            out.write(new byte[] {1, 2, 3});
            out.closeEntry();
            out.putNextEntry(new ZipEntry("fake-app-1.0-runner.jar"));
            java.io.ByteArrayOutputStream jar = new java.io.ByteArrayOutputStream();
            writeRunnerJar(jar);
            out.write(jar.toByteArray());
            out.closeEntry();
            if (extraEntry != null) {
                out.putNextEntry(new ZipEntry(extraEntry));
                out.write("x".getBytes());
                out.closeEntry();
            }
        }
        return zip;
    }

    private static void writeRunnerJar(OutputStream target) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "fake.Main");
        try (JarOutputStream jar = new JarOutputStream(target, manifest)) {
            jar.flush();
        }
    }
}
