"""The token path: vocabularies and the Seq2SeqTranslator."""
