"""What :meth:`Seq2SeqTranslator.score` needs besides the model: the references and sacrebleu."""

from __future__ import annotations


def reference_lists(targets, n: int, pretokenized: bool) -> list[list[str]]:
    """Every source's references as strings: one per entry, or the entry's list of several.

    Parameters
    ----------
    targets : sequence
        One entry per source: a reference (a string, or a token list for token-list sources)
        or a non-empty list of several references.
    n : int
        The number of sources.
    pretokenized : bool
        Whether the sources were token lists (references are then token lists, joined here).

    Returns
    -------
    list of list of str
        Each source's references.

    Raises
    ------
    TypeError, ValueError
        For targets that do not give one entry of references per source.
    """
    if isinstance(targets, str) or not hasattr(targets, "__len__"):
        raise TypeError(
            "targets must be a list with one reference (or list of references) per source"
        )
    targets = list(targets)
    if len(targets) != n:
        raise ValueError(
            f"sources and targets must pair up one to one, got {n} sources and {len(targets)} "
            f"targets (give several references of one source as a list in its entry)"
        )

    def is_reference(value) -> bool:
        if pretokenized:
            return isinstance(value, (list, tuple)) and all(isinstance(t, str) for t in value)
        return isinstance(value, str)

    references = []
    for i, entry in enumerate(targets):
        if is_reference(entry):
            refs = [entry]
        elif isinstance(entry, (list, tuple)) and entry and all(is_reference(r) for r in entry):
            refs = list(entry)
        else:
            form = "a token list" if pretokenized else "a string"
            raise TypeError(
                f"targets[{i}] must be {form} or a non-empty list of them (several references), "
                f"got {entry!r}"
            )
        references.append([" ".join(r) if pretokenized else r for r in refs])
    return references


def import_sacrebleu():
    """The sacrebleu module, or an ImportError that says how to install it.

    Returns
    -------
    module
        :mod:`sacrebleu`.
    """
    try:
        import sacrebleu
    except ImportError:
        raise ImportError(
            "score() computes BLEU with sacrebleu, which is not installed; install it with "
            "pip install 'tsattn[translate]' (or pip install sacrebleu)"
        ) from None
    return sacrebleu
