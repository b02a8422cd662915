"""What a dataset's quality report shows: the summary, the rows with their findings, and the
same findings as downloads and as the JSON the API and ``tunedesk check`` share."""
