"""Templates of the brief (brief.html, brief.css, strings.yaml): files an analyst can restyle."""
