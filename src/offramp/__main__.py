from offramp.cli import main

if __name__ == "__main__":  # `python -m offramp`; importing the module (doctests) runs nothing
    main()
