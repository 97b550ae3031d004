"""Data: synthetic text-style pairs (the default data) and real data set loaders.

Modules: ``base`` (DataModule, resumable sampler), ``keys`` (batch keys), ``fonts`` (discovery,
coverage, split), ``glyphs`` (cached text drawing), ``content`` (the plain content image),
``render`` (one style -> images + masks), ``words`` (strings), ``synth`` (SynthData, render CLI),
``crop`` (rotated boxes), ``imageio`` (reading real images), ``paired``, ``scene_folder``,
``imgur5k``, ``mixed``, ``remote`` (fetching data). See docs/data.md.
"""
