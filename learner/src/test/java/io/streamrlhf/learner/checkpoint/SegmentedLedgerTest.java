package io.streamrlhf.learner.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.models.checkpoint.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SegmentedLedgerTest {

    @TempDir
    Path root;

    /** {@code n} entries of one update, alternating partitions, at offsets derived from the update. */
    private static List<LedgerEntry> update(long update, int n) {
        List<LedgerEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LedgerEntry.Outcome outcome = i % 5 == 4 ? LedgerEntry.Outcome.DROPPED_STALE : LedgerEntry.Outcome.TRAINED;
            out.add(new LedgerEntry("gen-" + update + "-" + i, update, outcome, "t-" + (i % 2), update * 100 + i));
        }
        return out;
    }

    @Test
    void writesAnImmutableSegmentAndReadsItBack() throws Exception {
        SegmentedLedger ledger = new SegmentedLedger(root, 4);
        List<LedgerSegment> chain = ledger.append(List.of(), update(1, 6));
        assertThat(chain).singleElement().satisfies(s -> {
            assertThat(s.file()).matches("ledger/seg-000000000001-000000000001-[0-9a-f]{12}\\.tsv\\.gz");
            assertThat(s.sha256()).startsWith(s.file().substring(s.file().lastIndexOf('-') + 1, s.file().indexOf('.')));
            assertThat(s.entries()).isEqualTo(6);
            assertThat(s.level()).isZero();
            assertThat(s.size()).isEqualTo(Files.size(ledger.path(s)));
        });
        assertThat(ledger.readAll(chain)).isEqualTo(update(1, 6));
        // nothing temporary is left behind
        try (Stream<Path> list = Files.list(ledger.dir())) {
            assertThat(list.map(p -> p.getFileName().toString())).allMatch(n -> n.startsWith("seg-"));
        }
        // the same entries after the same chain land on the same (content-addressed) file
        assertThat(ledger.append(List.of(), update(1, 6))).isEqualTo(chain);
        // a different segment for the same update gets a different name: it never overwrites a listed one
        assertThat(ledger.append(List.of(), update(1, 5)).get(0).file()).isNotEqualTo(chain.get(0).file());
        ledger.verify(chain.get(0));
    }

    @Test
    void tamperedOrMissingSegmentsFailTheirCheck() throws Exception {
        SegmentedLedger ledger = new SegmentedLedger(root, 4);
        List<LedgerSegment> chain = ledger.append(ledger.append(List.of(), update(1, 8)), update(2, 8));
        Path second = ledger.path(chain.get(1));
        byte[] bytes = Files.readAllBytes(second);
        bytes[bytes.length / 2] ^= 0x20;
        Files.write(second, bytes);
        assertThatThrownBy(() -> ledger.verify(chain.get(1))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(chain.get(1).file()).hasMessageContaining("fails its check");
        assertThatThrownBy(() -> ledger.readAll(chain)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(chain.get(1).file());
        // appending after a tampered chain merges nothing silently: with fanout 2 the merge reads the bad file
        SegmentedLedger pairs = new SegmentedLedger(root, 2);
        assertThatThrownBy(() -> pairs.append(chain, update(3, 8))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(chain.get(1).file());
        Files.delete(ledger.path(chain.get(0)));
        assertThatThrownBy(() -> ledger.verify(chain.get(0))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("missing");
    }

    @Test
    void mergesKeepTheChainShortAndTheLedgerIntact() {
        int fanout = 3;
        SegmentedLedger ledger = new SegmentedLedger(root, fanout);
        List<LedgerSegment> chain = List.of();
        List<LedgerEntry> all = new ArrayList<>();
        Set<String> everListed = new HashSet<>();
        int maxChain = 0;
        for (long u = 1; u <= 40; u++) {
            List<LedgerEntry> added = update(u, 3 + (int) (u % 4));
            List<LedgerSegment> next = ledger.append(chain, added);
            // the previous chain's files are never changed or removed by an append
            for (LedgerSegment s : chain) {
                ledger.verify(s);
            }
            chain = next;
            all.addAll(added);
            chain.forEach(s -> everListed.add(s.file()));
            maxChain = Math.max(maxChain, chain.size());
            // levels never increase along the chain and each level has fewer than fanout segments
            for (int i = 1; i < chain.size(); i++) {
                assertThat(chain.get(i).level()).isLessThanOrEqualTo(chain.get(i - 1).level());
            }
            assertThat(chain.stream().collect(Collectors.groupingBy(LedgerSegment::level, Collectors.counting())))
                    .allSatisfy((level, n) -> assertThat(n).isLessThan(fanout));
            // consecutive, non-overlapping update ranges
            for (int i = 1; i < chain.size(); i++) {
                assertThat(chain.get(i).firstUpdate()).isEqualTo(chain.get(i - 1).lastUpdate() + 1);
            }
        }
        // 40 = 1111 in base 3: one segment per level 0..3
        assertThat(chain).extracting(LedgerSegment::level).containsExactly(3, 2, 1, 0);
        assertThat(chain.stream().mapToLong(LedgerSegment::entries).sum()).isEqualTo(all.size());
        assertThat(maxChain).isLessThanOrEqualTo((fanout - 1) * 4);
        assertThat(ledger.readAll(chain)).as("merged segments read back in order").isEqualTo(all);
        assertThat(SegmentedLedger.lastUpdate(chain)).isEqualTo(40);

        // dropping what no chain lists keeps exactly the live chain's files
        int before = ledger.files().size();
        assertThat(before).as("merge inputs stay until unreferenced").isGreaterThanOrEqualTo(everListed.size());
        int deleted = ledger.deleteUnreferenced(chain.stream().map(LedgerSegment::file).collect(Collectors.toSet()));
        assertThat(deleted).isEqualTo(before - chain.size());
        assertThat(ledger.files()).hasSize(chain.size());
        assertThat(ledger.readAll(chain)).hasSize(all.size());
    }

    @Test
    void refusesEntriesThatDoNotFollowTheChain() {
        SegmentedLedger ledger = new SegmentedLedger(root, 4);
        List<LedgerSegment> chain = ledger.append(List.of(), update(5, 2));
        assertThatThrownBy(() -> ledger.append(chain, update(5, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not after update 5");
        List<LedgerEntry> backwards = new ArrayList<>(update(7, 1));
        backwards.addAll(update(6, 1));
        assertThatThrownBy(() -> ledger.append(chain, backwards)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ledger.append(chain, List.of())).isEqualTo(chain);
        assertThatThrownBy(() -> new SegmentedLedger(root, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LedgerEntry("a\tb", 1, LedgerEntry.Outcome.TRAINED, "t-0", 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tab");
    }
}
