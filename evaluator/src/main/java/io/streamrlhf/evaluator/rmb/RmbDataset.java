package io.streamrlhf.evaluator.rmb;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@link RmbReader} read: every item, in file order, and the files they came from.
 *
 * @param items every item, pairwise and Best-of-N, in the order of the (sorted) files and of the records in them
 * @param files the JSON files read, sorted
 */
public record RmbDataset(List<RmbItem> items, List<Path> files) {

    /** Copies the lists. */
    public RmbDataset {
        items = List.copyOf(items);
        files = List.copyOf(files);
    }

    /** The items of one set. */
    public List<RmbItem> items(RmbSet set) {
        return items.stream().filter(i -> i.set() == set).toList();
    }
}
